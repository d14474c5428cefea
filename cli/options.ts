// Command-line options of `npm run boot`, parsed into a VmConfig plus what the CLI itself does
// (timeout, stats). Every mistake is one clear line (UsageError), never a stack trace.
import { parseArgs } from "node:util";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { VmConfig } from "../devices/vm/config.ts";
import { DEFAULT_CMDLINE, READY_LINE } from "../devices/vm/config.ts";

export class UsageError extends Error {}

const guestDir = fileURLToPath(new URL("../guest-images/", import.meta.url));

export const HELP = `usage: npm run boot -- [options]
  --kernel FILE        bzImage to boot (default: guest-images/bzImage)
  --initrd FILE        initramfs (default: guest-images/initramfs.cpio.gz; --initrd none for none)
  --append TEXT        kernel command line (default: "${DEFAULT_CMDLINE}")
  --mem MB             guest RAM in MiB (default 128)
  --clock MODE         realtime (default) or deterministic
  --timeout S          give up after S seconds of wall time (exit 2)
  --expect TEXT        exit 0 as soon as TEXT appears on the console
  --cmd TEXT           repeatable: wait for the shell prompt, type TEXT, wait for the prompt;
                       after the last one power the guest off and exit 0
  --stats              print one JSON line of statistics on exit
  -h, --help           this text`;

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
        stats: { type: "boolean" },
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
  const timeoutS = o.timeout === undefined ? Infinity : Number(o.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds, not '${o.timeout}'`);

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
    },
    timeoutS,
    stats: o.stats ?? false,
  };
}
