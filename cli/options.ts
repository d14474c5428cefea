// Command-line options of `npm run boot`, parsed into a VmConfig plus what the CLI itself does
// (timeout, stats). Every mistake is one clear line (UsageError), never a stack trace.
import { parseArgs } from "node:util";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { sep } from "node:path";
import type { VirtioDeviceSpec, VmConfig } from "../devices/vm/config.ts";
import { DEFAULT_CMDLINE, JIT_THRESHOLD } from "../devices/vm/config.ts";
import { DEVICE_TYPES, TRANSPORTS, TRANSPORT_NAMES, isBlockSpec, isFsSpec, type OptionDef } from "../devices/registry.ts";
import { UsageError, checkPlacement, listOr, parseDeviceArg } from "../devices/vm/device-args.ts";
import { exitCodeHelp } from "./exit-codes.ts";
import { isManifestUrl as isStreamUrl } from "../devices/host/disk-manifest.ts";
import { GUESTS, GUEST_NAMES, guest as findGuest, missingFiles, rootDisk } from "./guests.ts";

export { UsageError };

/** Wall-time limit of a --cmd/--expect run without --timeout: nothing in CI hangs forever. */
export const SCRIPTED_TIMEOUT_S = 600;

/** --help; a function so that device types registered later appear in it. */
export const helpText = (): string => `usage: npm run boot -- [options]
  --guest NAME         what to boot (default: default); NAME one of
${guestHelp()}
                       --kernel, --initrd, --append, --mem and --device change or add to it
  --disk FILE          the guest's root disk image instead of its own (a copy of it, say)
  --kernel FILE        bzImage to boot (default: guest-images/bzImage)
  --initrd FILE        initramfs (default: guest-images/initramfs.cpio.gz; --initrd none for none)
  --append TEXT        kernel command line (default: "${DEFAULT_CMDLINE}")
  --mem MB             guest RAM in MiB (default 128)
  --clock MODE         realtime (default) or deterministic
  --timeout S|none     give up after S seconds of wall time (default: none for an
                       interactive run, ${SCRIPTED_TIMEOUT_S} s for a --cmd/--expect run)
  --expect TEXT        exit 0 as soon as TEXT appears on the console
  --cmd TEXT           repeatable: wait for the shell prompt, type TEXT, wait for the prompt;
                       after the last one power the guest off and exit 0
  --no-reboot          a guest reboot (reboot -f, panic=N, a triple fault) ends the run with
                       exit code 5 instead of resetting the board; the default for --cmd and
                       --expect runs (--reboot resets the board instead, as interactive runs do)
  --reboot             a guest reboot resets the board and the guest boots again
  --device SPEC        repeatable: a virtio device, SPEC one of
${deviceHelp()}
  --apic               the APIC board: local APIC, I/O APIC and an MP table (default: PIC only)
  --acpi               ACPI tables (a PCI host bridge with its interrupt routing, the MADT on the
                       --apic board) and the ACPI PM timer, which a kernel's clocksource
                       watchdog checks the TSC against
  --jit N|off          translate guest code to WebAssembly after N runs of a block (default ${JIT_THRESHOLD});
                       off interprets every instruction
  --guest-decompress   let the guest unpack the kernel and a gzip initrd itself, as on
                       real hardware (default: the host unpacks them first; faster boot)
  --save-state FILE    after the last --cmd (the guest at its prompt) save the machine to FILE
                       instead of powering off, and exit 0
  --save-increment FILE  as --save-state, but only the RAM pages written since the restored
                       state: an increment, resumed with --restore BASE --restore FILE
  --restore FILE       resume the machine saved in FILE instead of booting (no boot: its
                       processes and files as they were), then run the --cmd commands; memory,
                       clock, board, command line and JIT come from the state; give the same
                       --kernel/--initrd and, for disks and 9p folders, the same --device options
                       (host files and folders are never taken from a state file); repeated,
                       the first is a whole state and each next an increment saved after it
  --stats              print one JSON line of statistics on exit
  -h, --help           this text
A guest kernel panic ends the run at once (the pvpanic device, or the kernel's
"Kernel panic - not syncing" line for kernels without its driver). Exit codes:
${exitCodeHelp("  ")}`;

export interface CliOptions {
  vm: VmConfig;
  /** --save-state FILE. */
  saveState?: string;
  /** --restore FILE…: the VmConfig is then built from the state (cli/restore.ts); the first
   *  a whole state, each next an increment over the one before. */
  restore?: string[];
  timeoutS: number;
  stats: boolean;
}

/**
 * A file's bytes as a plain Uint8Array over the Buffer's own memory, not a copy: a file of more
 * than a few KiB has an ArrayBuffer of its own, which the VM worker can then be given whole
 * (cli/vm-worker-start.ts fileBuffers).
 */
export function fileBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function readImage(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${what} '${path}' is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (size === 0) throw new UsageError(`${what} '${path}' is empty`);
  return fileBytes(readFileSync(path));
}

export function parseOptions(argv: string[]): CliOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        guest: { type: "string" },
        disk: { type: "string" },
        kernel: { type: "string" },
        initrd: { type: "string" },
        append: { type: "string" },
        mem: { type: "string" },
        clock: { type: "string" },
        timeout: { type: "string" },
        expect: { type: "string" },
        cmd: { type: "string", multiple: true },
        device: { type: "string", multiple: true },
        stats: { type: "boolean" },
        "guest-decompress": { type: "boolean" },
        "no-reboot": { type: "boolean" },
        reboot: { type: "boolean" },
        apic: { type: "boolean" },
        acpi: { type: "boolean" },
        jit: { type: "string" },
        "save-state": { type: "string" },
        "save-increment": { type: "string" },
        restore: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
  const o = parsed.values;
  if (o.help) return "help";
  if (o.restore !== undefined) {
    // The board is the state's: options that would build another one contradict it.
    for (const k of ["mem", "clock", "append", "apic", "acpi", "jit", "guest-decompress", "guest", "disk"] as const) {
      if (o[k] !== undefined) throw new UsageError(`--${k} cannot be given with --restore: the state file says it`);
    }
  }
  if (o["save-increment"] !== undefined) {
    if (o.restore === undefined) throw new UsageError("--save-increment saves the pages written since the restored state: give --restore");
    if (o["save-state"] !== undefined) throw new UsageError("--save-state and --save-increment: give one");
    o["save-state"] = o["save-increment"];
  }
  if (o["save-state"] === "" || o.restore?.includes("")) throw new UsageError("--save-state, --save-increment and --restore need a file name");

  const g = findGuest(o.guest ?? "default");
  if (!g) throw new UsageError(`--guest must be one of ${GUEST_NAMES.join(", ")}, not '${o.guest}'`);
  if (o.kernel === undefined && o.initrd === undefined) {
    const missing = missingFiles(o.disk === undefined ? g : { ...g, disk: undefined });
    if (missing.length) throw new UsageError(`--guest ${g.name}: ${missing.join(", ")} not found${g.build ? ` (build it: ${g.build})` : ""}`);
  }
  if (o.disk !== undefined && !g.disk) throw new UsageError(`--disk: the ${g.name} guest has no root disk (add one with --device blk,…)`);
  const apic = o.apic ?? g.apic;
  const acpi = o.acpi ?? g.acpi;
  const mem = o.mem === undefined ? g.memMiB : Number(o.mem);
  if (!Number.isInteger(mem) || mem < 16 || mem > 2000) throw new UsageError(`--mem must be a whole number of MiB from 16 to 2000, not '${o.mem}'`);
  const clock = o.clock ?? "realtime";
  if (clock !== "realtime" && clock !== "deterministic") throw new UsageError(`--clock must be 'realtime' or 'deterministic', not '${clock}'`);
  if (o["save-state"] !== undefined && o.expect !== undefined) throw new UsageError("--save-state saves after the last --cmd; --expect ends the run instead: give one");
  const scripted = (o.cmd ?? []).length > 0 || o.expect !== undefined || o["save-state"] !== undefined;
  const timeoutS = o.timeout === undefined ? (scripted ? SCRIPTED_TIMEOUT_S : Infinity) : o.timeout === "none" ? Infinity : Number(o.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds or 'none', not '${o.timeout}'`);
  if (o["no-reboot"] && o.reboot) throw new UsageError("--no-reboot and --reboot contradict each other: give one");
  const noReboot = o["no-reboot"] ?? (o.reboot ? false : scripted);

  const jit = o.jit === undefined ? undefined : o.jit === "off" ? 0 : Number(o.jit);
  if (jit !== undefined && !(Number.isInteger(jit) && jit >= 0 && jit <= 1e9)) throw new UsageError(`--jit must be 'off' or a whole number of executions before a block is translated, not '${o.jit}'`);
  const devices = checkDevices([...rootDisk(o.disk === undefined ? g : { ...g, disk: o.disk }, apic), ...(o.device ?? [])].map((d) => parseDevice(d, mem)));

  const kernel = readImage(o.kernel ?? g.kernel, "kernel");
  const initrd = o.initrd === "none" ? undefined : readImage(o.initrd ?? g.initrd, "initrd");

  return {
    vm: {
      kernel,
      initrd,
      cmdline: o.append ?? g.cmdline,
      memMiB: mem,
      clock,
      script: { expect: o.expect, cmds: o.cmd ?? [], ready: g.ready, prompt: g.prompt, poweroff: g.poweroff },
      devices,
      guestDecompress: o["guest-decompress"] ?? false,
      noReboot,
      ...(o["save-state"] !== undefined ? { saveState: o["save-increment"] !== undefined ? "increment" as const : true } : {}),
      ...(apic ? { apic: true } : {}),
      ...(acpi ? { acpi: true } : {}),
      ...(jit !== undefined ? { jit } : {}),
    },
    timeoutS,
    stats: o.stats ?? false,
    ...(o["save-state"] !== undefined ? { saveState: o["save-state"] } : {}),
    ...(o.restore !== undefined ? { restore: o.restore } : {}),
  };
}

/** Combinations the board cannot place, and disk images shared: one line each. */
export function checkDevices(specs: VirtioDeviceSpec[]): VirtioDeviceSpec[] {
  checkPlacement(specs);
  checkImages(specs);
  return specs;
}

/**
 * One disk image is one device, and never a file the guest can also reach through a shared
 * folder: two writers of one file (two blk devices, or blk and 9p) corrupt it. Two images are
 * the same file when their device and inode numbers are (so no symlink, hard link or `..`
 * hides it); an image is in a folder when its real path is below the folder's (a hard link
 * from inside the folder to an image outside it is not found: that would take a walk of the
 * whole folder).
 */
function checkImages(specs: VirtioDeviceSpec[]): void {
  const images = new Map<string, { image: string; real: string }>();
  for (const d of specs) {
    if (!isBlockSpec(d) || !d.image || isStreamUrl(d.image)) continue;
    const st = statSync(d.image);
    const file = `${st.dev}:${st.ino}`;
    const other = images.get(file);
    if (other !== undefined) throw new UsageError(`--device: image '${d.image}' is already the disk of another blk device ('${other.image}')`);
    images.set(file, { image: d.image, real: realpathSync(d.image) });
  }
  for (const d of specs) {
    if (!isFsSpec(d) || !d.path) continue;
    const dir = realpathSync(d.path);
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const { real, image } of images.values()) {
      if (real.startsWith(prefix)) throw new UsageError(`--device: image '${image}' is inside the 9p folder '${d.path}' (the guest would reach the disk through both)`);
    }
  }
}

/** `blk,transport=mmio-v2,image=disk.img,readonly` → a VirtioDeviceSpec (or one UsageError line); files and folders are this machine's. */
export function parseDevice(text: string, memMiB = Infinity): VirtioDeviceSpec {
  return parseDeviceArg(text, memMiB, hostPath);
}

/** A file or folder option's value as a path on this machine: it must exist and be of its kind. */
function hostPath(text: string, o: OptionDef, v: string): void {
  // Checked when the VM opens it (a server, not a file here).
  if (o.kind === "file" && o.streams && isStreamUrl(v)) return;
  const what = o.kind === "file" ? o.key : "folder";
  let st;
  try {
    st = statSync(v);
  } catch (e) {
    throw new UsageError(`--device '${text}': cannot open ${what} '${v}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (o.kind === "file" && !st.isFile()) throw new UsageError(`--device '${text}': ${o.key} '${v}' is not a file`);
  if (o.kind === "dir" && !st.isDirectory()) throw new UsageError(`--device '${text}': '${v}' is not a directory`);
  const why = o.kind === "file" ? o.checkSize?.(st.size) : null;
  if (why) throw new UsageError(`--device '${text}': ${o.key} '${v}' ${why}`);
}

/** The --guest part of --help, from the guest table. */
function guestHelp(): string {
  return GUESTS.map((g) => `                         ${g.name}: ${g.summary}; ${g.memMiB} MiB${g.apic ? ", --apic" : ""}${g.acpi ? ", --acpi" : ""}`).join("\n");
}

/** The --device part of --help, from the registry. */
function deviceHelp(): string {
  const pad = " ".repeat(23);
  const lines: string[] = [];
  for (const t of DEVICE_TYPES) {
    const opts = t.options.map((o) => {
      const form = o.kind === "flag" ? o.key : `${o.key}=${o.meta ?? o.choices?.join("|") ?? "VALUE"}`;
      return o.required ? `,${form}` : `[,${form}]`;
    }).join("");
    lines.push(`${pad}  ${t.name},transport=T${opts}[,irq=I]`);
    lines.push(`${pad}    ${t.summary}${t.transportsWhy ? `; T with VERSION_1 (${t.transportsWhy})` : ""}`);
    for (const o of t.options) if (o.help) lines.push(`${pad}    ${o.key}: ${o.help}${o.default !== undefined ? ` (default ${o.default})` : ""}`);
  }
  const msi = TRANSPORTS.filter((t) => t.msi !== null);
  lines.push(`${pad}T: ${TRANSPORT_NAMES.join(", ")}`);
  for (const t of TRANSPORTS) lines.push(`${pad}  ${t.name}: ${t.summary}`);
  lines.push(`${pad}I: intx (default); ${[...new Set(msi.map((t) => t.msi))].map((m) => `${m} on ${listOr(msi.filter((t) => t.msi === m).map((t) => t.name))}`).join("; ")}`);
  lines.push(`${pad}   (msix: a vector per queue, used by a kernel with PCI MSI on the --apic board;`);
  lines.push(`${pad}   msi: the 2020 virtio-mmio MSI proposal, feature bit 40, device side only)`);
  return lines.join("\n");
}
