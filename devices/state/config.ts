// The board configuration a state was saved from: what a restore must build before it loads
// the components (memory size, clock, board, every virtio device on its transport, the JIT
// threshold), plus the identities of what is not in the state — kernel, initrd, disks — and
// whether the guest was left at a shell prompt (the --cmd script then types its first command at
// once). Stored as JSON in the `config` section and checked field by field on the way in: the
// file is untrusted. Host paths in it (a disk image, a 9p folder) are never used on their own:
// the host gives its devices again and they must match (matchDevices).
import type { VirtioDeviceSpec, VmConfig } from "../vm/config.ts";
import { deviceType, isTransportName } from "../registry.ts";
import { optionField } from "../virtio/device-type.ts";
import type { ContentId } from "./digest.ts";
import { StateError } from "./wire.ts";

export interface SavedConfig {
  memMiB: number;
  clock: VmConfig["clock"];
  cmdline: string;
  apic: boolean;
  acpi: boolean;
  jit: number | null;
  pvpanic: boolean;
  guestDecompress: boolean;
  devices: VirtioDeviceSpec[];
  kernel: ContentId;
  initrd: ContentId | null;
  /** Per device index: a blk device's disk identity. */
  disks: { device: number; id: ContentId }[];
  /** The guest was at a shell prompt (a --cmd script's save point). */
  atPrompt: boolean;
}

/** Longest configuration JSON a state may carry. */
export const MAX_CONFIG = 1 << 20;

function fail(what: string): never {
  throw new StateError(`damaged state file: its board configuration has ${what}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function contentId(v: unknown, what: string): ContentId {
  if (!isObj(v) || !Number.isSafeInteger(v.size) || (v.size as number) < 0 || typeof v.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.sha256)) fail(`a bad ${what} identity`);
  return { size: v.size as number, sha256: v.sha256 };
}

/** Parse and check the config section's JSON. */
export function parseSavedConfig(text: string): SavedConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail("no valid JSON");
  }
  if (!isObj(v)) fail("no object");
  const memMiB = v.memMiB;
  if (!Number.isInteger(memMiB) || (memMiB as number) < 16 || (memMiB as number) > 2000) fail(`memory size ${String(memMiB)}`);
  if (v.clock !== "realtime" && v.clock !== "deterministic") fail("an unknown clock");
  if (typeof v.cmdline !== "string" || v.cmdline.length > 4096) fail("a bad command line");
  if (v.jit !== null && !(Number.isInteger(v.jit) && (v.jit as number) >= 0 && (v.jit as number) <= 1e9)) fail("a bad JIT threshold");
  for (const k of ["apic", "acpi", "pvpanic", "guestDecompress", "atPrompt"] as const) if (typeof v[k] !== "boolean") fail(`no ${k} flag`);
  if (!Array.isArray(v.devices) || v.devices.length > 64) fail("a bad device list");
  const devices = v.devices.map((d: unknown, i: number): VirtioDeviceSpec => {
    if (!isObj(d) || typeof d.type !== "string" || !deviceType(d.type) || typeof d.transport !== "string" || !isTransportName(d.transport)) fail(`a bad device ${i}`);
    for (const [k, x] of Object.entries(d)) if (!["string", "number", "boolean"].includes(typeof x)) fail(`a bad option ${k} of device ${i}`);
    return d as unknown as VirtioDeviceSpec;
  });
  if (!Array.isArray(v.disks) || v.disks.length > devices.length) fail("a bad disk list");
  const disks = v.disks.map((d: unknown) => {
    if (!isObj(d) || !Number.isInteger(d.device) || (d.device as number) < 0 || (d.device as number) >= devices.length) fail("a bad disk");
    return { device: d.device as number, id: contentId(d.id, "disk") };
  });
  return {
    memMiB: memMiB as number, clock: v.clock, cmdline: v.cmdline, apic: v.apic as boolean, acpi: v.acpi as boolean, jit: v.jit as number | null,
    pvpanic: v.pvpanic as boolean, guestDecompress: v.guestDecompress as boolean, devices,
    kernel: contentId(v.kernel, "kernel"), initrd: v.initrd === null ? null : contentId(v.initrd, "initrd"), disks, atPrompt: v.atPrompt as boolean,
  };
}

/** A device as the user would write it on the command line (for messages). */
export function deviceText(d: VirtioDeviceSpec): string {
  const t = deviceType(d.type);
  const opts = (t?.options ?? []).flatMap((o) => {
    const v = d[optionField(o)];
    return v === undefined ? [] : [v === true ? o.key : `${o.key}=${String(v)}`];
  });
  return [d.type, `transport=${d.transport}`, ...opts, ...(d.irq ? [`irq=${d.irq}`] : [])].join(",");
}

/** The options of `d` that name host files or folders (never taken from a state file). */
function hostOptions(d: VirtioDeviceSpec): Set<string> {
  return new Set((deviceType(d.type)?.options ?? []).filter((o) => o.kind === "file" || o.kind === "dir").map((o) => optionField(o)));
}

/**
 * The devices a restore builds: the state's, with host files and folders from the host's own
 * `given` list. A state device that needs a host resource must be given again, matching in
 * everything but the resource; one given that the state lacks is an error too.
 */
export function matchDevices(saved: readonly VirtioDeviceSpec[], given: readonly VirtioDeviceSpec[]): VirtioDeviceSpec[] {
  const needsHost = (d: VirtioDeviceSpec) => [...hostOptions(d)].some((k) => d[k] !== undefined);
  if (given.length === 0 && !saved.some(needsHost)) return [...saved];
  const list = (ds: readonly VirtioDeviceSpec[]) => ds.map((d) => `--device ${deviceText(d)}`).join(" ");
  if (given.length !== saved.length) throw new StateError(`the state was saved with ${saved.length ? list(saved) : "no virtio devices"}; give the same devices (host files and folders are never taken from a state file)`);
  return saved.map((s, i) => {
    const g = given[i]!;
    const host = hostOptions(s);
    const keys = new Set([...Object.keys(s), ...Object.keys(g)].filter((k) => !host.has(k)));
    for (const k of keys) {
      if (s[k] !== g[k]) throw new StateError(`device ${i + 1} differs from the saved one (${k}): the state was saved with ${list(saved)}`);
    }
    return { ...s, ...Object.fromEntries([...host].map((k) => [k, g[k]])) };
  });
}
