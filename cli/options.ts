// Command-line options of `npm run boot`, parsed into a VmConfig plus what the CLI itself does
// (timeout, stats). Every mistake is one clear line (UsageError), never a stack trace.
import { parseArgs } from "node:util";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { VirtioDeviceSpec, VmConfig } from "../devices/vm/config.ts";
import { DEFAULT_CMDLINE, JIT_THRESHOLD, READY_LINE } from "../devices/vm/config.ts";
import { parseMac } from "../devices/virtio/net.ts";
import { exitCodeHelp } from "./exit-codes.ts";

export class UsageError extends Error {}

const guestDir = fileURLToPath(new URL("../guest-images/", import.meta.url));

/** Wall-time limit of a --cmd/--expect run without --timeout: nothing in CI hangs forever. */
export const SCRIPTED_TIMEOUT_S = 600;

export const HELP = `usage: npm run boot -- [options]
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
                         blk,transport=T,image=FILE[,readonly][,irq=I]
                         console,transport=T[,irq=I]
                         rng,transport=T[,irq=I]
                         balloon,transport=T[,mib=N][,irq=I]  (N MiB inflated from boot)
                         input,transport=T[,irq=I]  (a keyboard: /dev/input/event0; T with VERSION_1)
                         net,transport=T,backend=host[,mac=M][,irq=I]  (the built-in host:
                           DHCP gives 10.0.2.15, the host 10.0.2.2 answers ping and http)
                         9p,transport=T,path=DIR[,tag=NAME][,readonly][,irq=I]  (a shared folder;
                           in the guest: mount -t 9p -o trans=virtio,version=9p2000.L NAME /mnt;
                           NAME defaults to "share")
                       T: pci-legacy, pci-modern, pci-transitional, mmio-v1, mmio-v2
                       I: intx (default); msix on virtio-pci — MSI-X with a vector per queue,
                       used by a kernel with PCI MSI on the --apic board; msi on mmio-v2 — the
                       2020 virtio-mmio MSI proposal (feature bit 40), device side only
  --apic               the APIC board: local APIC, I/O APIC and an MP table (default: PIC only)
  --jit N|off          translate guest code to WebAssembly after N runs of a block (default ${JIT_THRESHOLD});
                       off interprets every instruction
  --guest-decompress   let the guest unpack the kernel and a gzip initrd itself, as on
                       real hardware (default: the host unpacks them first; faster boot)
  --stats              print one JSON line of statistics on exit
  -h, --help           this text
A guest kernel panic ends the run at once (the pvpanic device, or the kernel's
"Kernel panic - not syncing" line for kernels without its driver). Exit codes:
${exitCodeHelp("  ")}`;

export interface CliOptions {
  vm: VmConfig;
  timeoutS: number;
  stats: boolean;
}

function readImage(path: string, what: string): Uint8Array {
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
  return new Uint8Array(readFileSync(path));
}

export function parseOptions(argv: string[]): CliOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
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
        jit: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
  const o = parsed.values;
  if (o.help) return "help";

  const mem = o.mem === undefined ? 128 : Number(o.mem);
  if (!Number.isInteger(mem) || mem < 16 || mem > 2000) throw new UsageError(`--mem must be a whole number of MiB from 16 to 2000, not '${o.mem}'`);
  const clock = o.clock ?? "realtime";
  if (clock !== "realtime" && clock !== "deterministic") throw new UsageError(`--clock must be 'realtime' or 'deterministic', not '${clock}'`);
  const scripted = (o.cmd ?? []).length > 0 || o.expect !== undefined;
  const timeoutS = o.timeout === undefined ? (scripted ? SCRIPTED_TIMEOUT_S : Infinity) : o.timeout === "none" ? Infinity : Number(o.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds or 'none', not '${o.timeout}'`);
  if (o["no-reboot"] && o.reboot) throw new UsageError("--no-reboot and --reboot contradict each other: give one");
  const noReboot = o["no-reboot"] ?? (o.reboot ? false : scripted);

  const jit = o.jit === undefined ? undefined : o.jit === "off" ? 0 : Number(o.jit);
  if (jit !== undefined && !(Number.isInteger(jit) && jit >= 0 && jit <= 1e9)) throw new UsageError(`--jit must be 'off' or a whole number of executions before a block is translated, not '${o.jit}'`);
  const devices = checkDevices((o.device ?? []).map(parseDevice));
  for (const d of devices) {
    if (d.balloonMiB !== undefined && d.balloonMiB >= mem) throw new UsageError(`--device balloon: mib=${d.balloonMiB} must be less than the guest's ${mem} MiB`);
  }

  const kernel = readImage(o.kernel ?? guestDir + "bzImage", "kernel");
  const initrd = o.initrd === "none" ? undefined : readImage(o.initrd ?? guestDir + "initramfs.cpio.gz", "initrd");

  return {
    vm: {
      kernel,
      initrd,
      cmdline: o.append ?? DEFAULT_CMDLINE,
      memMiB: mem,
      clock,
      script: { expect: o.expect, cmds: o.cmd ?? [], ready: READY_LINE },
      devices,
      guestDecompress: o["guest-decompress"] ?? false,
      noReboot,
      ...(o.apic ? { apic: true } : {}),
      ...(jit !== undefined ? { jit } : {}),
    },
    timeoutS,
    stats: o.stats ?? false,
  };
}

/** Combinations the board cannot place: one line each. */
function checkDevices(specs: VirtioDeviceSpec[]): VirtioDeviceSpec[] {
  const tags = specs.filter((d) => d.type === "9p").map((d) => d.tag ?? "share");
  if (new Set(tags).size !== tags.length) throw new UsageError("--device: two 9p devices with the same tag");
  if (specs.filter((d) => d.type === "console").length > 1) throw new UsageError("--device: at most one console device (it owns the console)");
  if (specs.filter((d) => d.transport.startsWith("mmio")).length > 8) throw new UsageError("--device: at most 8 virtio-mmio devices (one free IRQ each)");
  if (specs.filter((d) => d.transport.startsWith("pci")).length > 31) throw new UsageError("--device: at most 31 virtio-pci devices (bus 0 slots)");
  return specs;
}

const TRANSPORTS = ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"] as const;
const DEVICE_TYPES = ["blk", "console", "rng", "balloon", "input", "net", "9p"] as const;

/** `blk,transport=mmio-v2,image=disk.img,readonly` → a VirtioDeviceSpec (or one UsageError line). */
export function parseDevice(text: string): VirtioDeviceSpec {
  const [type, ...rest] = text.split(",");
  if (!(DEVICE_TYPES as readonly string[]).includes(type!)) {
    throw new UsageError(`--device '${text}': type must be one of ${DEVICE_TYPES.join(", ")}, not '${type}'`);
  }
  const kv = new Map<string, string | true>();
  for (const item of rest) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (kv.has(key)) throw new UsageError(`--device '${text}': '${key}' given twice`);
    kv.set(key, eq < 0 ? true : item.slice(eq + 1));
  }
  const allowed = type === "blk" ? ["transport", "image", "readonly", "irq"] : type === "balloon" ? ["transport", "mib", "irq"]
    : type === "net" ? ["transport", "backend", "mac", "irq"] : type === "9p" ? ["transport", "path", "tag", "readonly", "irq"] : ["transport", "irq"];
  for (const key of kv.keys()) {
    if (!allowed.includes(key)) throw new UsageError(`--device '${text}': unknown option '${key}' for ${type} (allowed: ${allowed.join(", ")})`);
  }
  const transport = kv.get("transport");
  if (typeof transport !== "string" || !(TRANSPORTS as readonly string[]).includes(transport)) {
    throw new UsageError(`--device '${text}': transport=T is required, T one of ${TRANSPORTS.join(", ")}`);
  }
  if (type === "input" && (transport === "pci-legacy" || transport === "mmio-v1")) {
    // drivers/virtio/virtio_input.c refuses a device without VIRTIO_F_VERSION_1.
    throw new UsageError(`--device '${text}': Linux's virtio-input driver needs VIRTIO_F_VERSION_1: use pci-modern, pci-transitional or mmio-v2`);
  }
  const spec: VirtioDeviceSpec = { type: type as VirtioDeviceSpec["type"], transport: transport as VirtioDeviceSpec["transport"] };
  if (type === "balloon" && kv.has("mib")) {
    const mib = kv.get("mib");
    if (typeof mib !== "string" || !/^\d+$/.test(mib)) throw new UsageError(`--device '${text}': mib=N takes a whole number of MiB`);
    spec.balloonMiB = Number(mib);
  }
  const irq = kv.get("irq");
  if (irq !== undefined) {
    if (irq !== "intx" && irq !== "msix" && irq !== "msi") throw new UsageError(`--device '${text}': irq must be intx, msix or msi, not '${irq === true ? "" : irq}'`);
    if (irq === "msix" && !transport.startsWith("pci-")) throw new UsageError(`--device '${text}': irq=msix is for virtio-pci transports`);
    if (irq === "msi" && transport !== "mmio-v2") throw new UsageError(`--device '${text}': irq=msi is for mmio-v2 (the virtio-mmio MSI proposal)`);
    spec.irq = irq;
  }
  if (type === "blk") {
    const image = kv.get("image");
    if (typeof image !== "string" || image === "") throw new UsageError(`--device '${text}': blk needs image=FILE`);
    const ro = kv.get("readonly");
    if (ro !== undefined && ro !== true) throw new UsageError(`--device '${text}': readonly takes no value`);
    let st;
    try {
      st = statSync(image);
    } catch (e) {
      throw new UsageError(`--device '${text}': cannot open image '${image}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (!st.isFile()) throw new UsageError(`--device '${text}': image '${image}' is not a file`);
    if (st.size === 0 || st.size % 512 !== 0) throw new UsageError(`--device '${text}': image '${image}' size ${st.size} is not a non-zero multiple of 512`);
    spec.image = image;
    if (ro === true) spec.readonly = true;
  }
  if (type === "net") {
    // Only the built-in host from the command line: a link needs a peer in the same process (tests).
    const backend = kv.get("backend");
    if (backend !== "host") throw new UsageError(`--device '${text}': net needs backend=host`);
    spec.backend = "host";
    const mac = kv.get("mac");
    if (mac !== undefined) {
      const bytes = typeof mac === "string" ? parseMac(mac) : null;
      if (!bytes || (bytes[0]! & 1) !== 0) throw new UsageError(`--device '${text}': mac must be six hex bytes like 02:76:69:72:65:00, not a multicast address`);
      spec.mac = mac as string;
    }
  }
  if (type === "9p") {
    const path = kv.get("path");
    if (typeof path !== "string" || path === "") throw new UsageError(`--device '${text}': 9p needs path=DIR`);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new UsageError(`--device '${text}': cannot open folder '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (!st.isDirectory()) throw new UsageError(`--device '${text}': '${path}' is not a directory`);
    spec.path = path;
    const tag = kv.get("tag");
    if (tag !== undefined) {
      // The tag is the mount's device name: keep it to what a shell and mount(8) take unquoted.
      if (typeof tag !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(tag)) throw new UsageError(`--device '${text}': tag must be 1–64 of A-Z a-z 0-9 _ . -`);
      spec.tag = tag;
    }
    const ro = kv.get("readonly");
    if (ro !== undefined && ro !== true) throw new UsageError(`--device '${text}': readonly takes no value`);
    if (ro === true) spec.readonly = true;
  }
  return spec;
}
