// A whole PcBoard as state-file sections: which components there are, in which order they load,
// and the RAM. The order is the dependency order of a load: the vCPU first (its instruction
// count is the deterministic clock), the clock, RAM, the board and its chips, the PCI functions
// (whose load maps their BARs), then each virtio device's register file and transport (queues
// rebuild their ring walkers over the restored RAM) and the device type, which may hold chains
// of those queues. Saving walks the same list; a section's schema hash (file.ts) makes a
// component whose table changed refuse an older state by name.
import type { PcBoard } from "../board/pc.ts";
import type { VirtioContext } from "../virtio/device.ts";
import { CpuState } from "./cpu.ts";
import { loadState, saveState, stateShape, type Stateful } from "./fields.ts";
import { schemaHash, type Section } from "./file.ts";
import { loadRam, markedPages, saveRam, saveRamPages } from "./ram.ts";
import { StateError, StateReader, StateWriter } from "./wire.ts";

/** The RAM section's name (not a Stateful component: ram.ts encodes it). */
export const RAM_SECTION = "ram";
/** An incremental state's RAM: only the pages written since the state it is based on. */
export const RAM_WRITTEN_SECTION = "ram written";
/** The board configuration's section (config.ts, written by snapshot.ts). */
export const CONFIG_SECTION = "config";
/** An increment's base: the identity of the state it applies to (snapshot.ts). */
export const BASE_SECTION = "base";

/** A virtio device type keeps the transport it was activated with here (every one does). */
type Attachable = Stateful & { ctx: VirtioContext | null };

function isStateful(x: unknown): x is Stateful {
  return typeof x === "object" && x !== null && "stateTable" in x;
}

/** The board's components in load order, by section name. */
export function machineParts(board: PcBoard): [string, Stateful, (() => void)?][] {
  const parts: [string, Stateful, (() => void)?][] = [
    ["cpu", new CpuState(board.core)],
    ["clock", board.clock],
    ["board", board],
    ["pic", board.pic],
    ["pit", board.pit],
    ["com1", board.com1],
    ["cmos", board.cmos],
    ["kbc", board.kbc],
    ["sysctl", board.sysctl],
    ["pci-host", board.pci],
  ];
  if (board.apic) parts.push(["lapic", board.apic.lapic], ["ioapic", board.apic.ioapic]);
  if (board.pvpanic) parts.push(["pvpanic", board.pvpanic]);
  for (const s of board.pci.list()) parts.push([`pci ${s.device.toString(16).padStart(2, "0")}.${s.fn}`, s.f]);
  board.virtio.forEach((p, i) => {
    const regs = p.pci ?? p.mmio;
    if (!regs) throw new StateError(`virtio device ${i} has no register file`);
    const device = p.device as unknown;
    if (!isStateful(device) || !("ctx" in device)) throw new StateError(`virtio-${p.device.name} cannot be saved`);
    const name = `virtio ${i} ${p.spec.type}`;
    parts.push([`${name} transport`, regs]);
    // Between transport and device: a live device is attached to its transport again, as
    // activate() did, without activate()'s side effects (those happened before the save).
    parts.push([`${name} device`, device, () => void ((device as Attachable).ctx = p.transport.driverOk ? p.transport : null)]);
  });
  return parts;
}

/** The RAM section of a state: every non-zero page, or (`written`) the pages written since the
 *  last save or load — then the state is an increment over that one (snapshot.ts). */
function ramSection(board: PcBoard, written: boolean): Section {
  const ram = board.core.ram;
  return written
    ? { name: RAM_WRITTEN_SECTION, schema: 0, body: saveRamPages(ram, markedPages(board.writtenPages, board.writtenPages.length)) }
    : { name: RAM_SECTION, schema: 0, body: saveRam(ram, (p) => Boolean(board.core.exports.ramPageIsZero(p))) };
}

/**
 * Every component's section, and RAM's (all of it, or only the pages written since the last
 * save or load). Either way no page counts as written after it: the next increment starts here.
 */
export function saveMachine(board: PcBoard, written = false): Section[] {
  const out: Section[] = [];
  for (const [name, c] of machineParts(board)) {
    const w = new StateWriter();
    saveState(w, c, name);
    out.push({ name, schema: schemaHash(stateShape(c)), body: w.finish().slice() });
    if (name === "cpu") out.push(ramSection(board, written));
  }
  board.core.exports.dirtyPagesClear();
  return out;
}

/**
 * Load a freshly built board (the same configuration, never run: its RAM is all zero) from
 * `sections`, then the RAM of each increment in `written` (RAM_WRITTEN_SECTION bodies, oldest
 * first) over it. Any mistake in the file is a StateError naming the section; the board is then
 * unusable.
 */
export function loadMachine(board: PcBoard, sections: ReadonlyMap<string, Section>, written: readonly Uint8Array[] = []): void {
  const parts = machineParts(board);
  const expected = new Set([RAM_SECTION, RAM_WRITTEN_SECTION, ...parts.map(([n]) => n)]);
  for (const name of sections.keys()) {
    if (!expected.has(name) && name !== CONFIG_SECTION && name !== BASE_SECTION) throw new StateError(`the state has a component this board lacks: ${name}`);
  }
  for (const [name, c, before] of parts) {
    const s = sections.get(name);
    if (!s) throw new StateError(`the state lacks the board's component ${name}`);
    if (s.schema !== schemaHash(stateShape(c))) throw new StateError(`incompatible state file: component ${name} was saved with other fields`);
    before?.();
    try {
      const r = new StateReader(s.body, name);
      loadState(r, c, name);
      r.end();
    } catch (e) {
      if (e instanceof StateError) throw e;
      throw new StateError(`${name}: ${(e as Error)?.message ?? e}`);
    }
    if (name === "cpu") {
      const ram = sections.get(RAM_SECTION);
      if (!ram) throw new StateError("the state has no RAM");
      loadRam(ram.body, board.core.ram, true);
      for (const body of written) loadRam(body, board.core.ram, true);
    }
  }
}
