// What a PC BIOS does to PCI before it boots an OS, done by the board because Vireo boots
// Linux directly (docs/ARCHITECTURE.md "Buses and the board"):
//  - assign every BAR an address: I/O from 0xC000 upward, memory (32-bit and 64-bit BARs
//    alike, all below 4 GiB) upward from 0xE0000000 and below the I/O APIC at 0xFEC00000,
//    biggest first so natural alignment wastes little;
//  - enable I/O and memory decoding for the BAR kinds a function has, and bus mastering;
//  - route INTx: slot `d`, pin INTA..INTD (1..4) → PIRQ[(d + pin − 1) mod 4] (the usual
//    slot swizzle, PCI-to-PCI Bridge spec §9.1) → ISA IRQ pirqIrqs[...] (10, 11, 10, 11),
//    write it to Interrupt Line (0x3C) — without a $PIR table Linux's PIC-mode IRQ code uses
//    0x3C when it is non-zero — and make that IRQ level-triggered in the ELCR, since PCI
//    interrupts are level-sensitive, active-low and shareable (PCI 3.0 §2.2.6).
// Several functions can share one IRQ line, so each line is a wired-OR of its functions.
import {
  CMD_IO, CMD_MASTER, CMD_MEMORY, PCI_BAR0, PCI_COMMAND, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN,
  type BarKind, type PciHost,
} from "../pci-host.ts";

export interface PciFirmwareOptions {
  /** Drive an ISA IRQ line on the interrupt controller (PicPair.setIrq). */
  setIrq: (irq: number, level: boolean) => void;
  /** Make an ISA IRQ level-triggered (PicPair.setLevelTriggered: the ELCR). */
  setLevelTriggered: (irq: number) => void;
  ioBase?: number; // default 0xC000
  ioLimit?: number; // exclusive, default 0x10000
  memBase?: number; // default 0xE0000000
  memLimit?: number; // exclusive, default 0xFEC00000
  /**
   * On a board with an I/O APIC, PIRQA–D also reach I/O APIC pins 16–19 directly (as on a PIIX
   * board): drive PIRQ `pirq` (0–3). Each PIRQ is its own wired-OR, apart from the ISA lines.
   */
  setPirq?: (pirq: number, level: boolean) => void;
  /** ISA IRQs for PIRQA–D. */
  pirqIrqs?: readonly [number, number, number, number];
  log?: (message: string) => void;
}

export interface PciAssignment {
  device: number;
  fn: number;
  name: string;
  /** ISA IRQ the function's INTx# is routed to, or null if it has no interrupt pin. */
  irq: number | null;
  bars: { index: number; kind: BarKind; base: number; size: number }[];
}

export const DEFAULT_PIRQ_IRQS = [10, 11, 10, 11] as const;

/** Assign resources to every function on `host` (except the host bridge) and wire INTx. */
export function assignPci(host: PciHost, opts: PciFirmwareOptions): PciAssignment[] {
  const log = opts.log ?? (() => {});
  const pirq = opts.pirqIrqs ?? DEFAULT_PIRQ_IRQS;
  const slots = host.list().filter((s) => !(s.device === 0 && s.fn === 0));
  const result: PciAssignment[] = slots.map((s) => ({ device: s.device, fn: s.fn, name: s.f.name, irq: null, bars: [] }));

  // BAR requests, biggest first; ties in slot/BAR order so the layout is reproducible.
  const reqs = slots.flatMap((s, si) =>
    s.f.bars.flatMap((b, i) => (b && b.index === i ? [{ si, b }] : [])));
  reqs.sort((x, y) => y.b.size - x.b.size || x.si - y.si || x.b.index - y.b.index);
  let io = opts.ioBase ?? 0xc000;
  let mem = opts.memBase ?? 0xe000_0000;
  const ioLimit = opts.ioLimit ?? 0x1_0000;
  const memLimit = opts.memLimit ?? 0xfec0_0000;
  for (const { si, b } of reqs) {
    const f = slots[si]!.f;
    const off = PCI_BAR0 + 4 * b.index;
    if (b.kind === "io") {
      const base = alignUp(io, b.size);
      if (base + b.size > ioLimit) { log(`pci: no I/O space for ${f.name} BAR${b.index}`); continue; }
      io = base + b.size;
      f.writeConfig(off, 4, base);
      result[si]!.bars.push({ index: b.index, kind: b.kind, base, size: b.size });
    } else {
      const base = alignUp(mem, b.size);
      if (base + b.size > memLimit) { log(`pci: no memory space for ${f.name} BAR${b.index}`); continue; }
      mem = base + b.size;
      f.writeConfig(off, 4, base);
      if (b.kind === "mem64") f.writeConfig(off + 4, 4, 0); // placed below 4 GiB
      result[si]!.bars.push({ index: b.index, kind: b.kind, base, size: b.size });
    }
  }

  // Interrupt routing: a wired-OR per ISA IRQ (level, shared).
  // PciFunction calls its sink only when its output changes, so a count per line suffices.
  const asserted = new Map<number, { n: number }>();
  const pirqAsserted = [0, 0, 0, 0];
  slots.forEach((s, si) => {
    const f = s.f;
    const pin = f.config[PCI_INTERRUPT_PIN]!;
    if (pin >= 1 && pin <= 4) {
      const p = (s.device + pin - 1) & 3;
      const irq = pirq[p]!;
      f.writeConfig(PCI_INTERRUPT_LINE, 1, irq);
      opts.setLevelTriggered(irq);
      if (!asserted.has(irq)) asserted.set(irq, { n: 0 });
      const line = asserted.get(irq)!;
      f.setIntxSink((level) => {
        line.n += level ? 1 : -1;
        if (line.n === (level ? 1 : 0)) opts.setIrq(irq, level);
        if (opts.setPirq) {
          pirqAsserted[p] = pirqAsserted[p]! + (level ? 1 : -1);
          if (pirqAsserted[p] === (level ? 1 : 0)) opts.setPirq(p, level);
        }
      });
      result[si]!.irq = irq;
    }
    // Decoding last, once every BAR holds its final address.
    let cmd = CMD_MASTER;
    for (const b of f.bars) if (b) cmd |= b.kind === "io" ? CMD_IO : CMD_MEMORY;
    f.writeConfig(PCI_COMMAND, 2, f.get(PCI_COMMAND, 2) | cmd);
  });
  return result;
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
