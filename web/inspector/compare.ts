// "Compare transports": the same workload on each transport in turn — power on with the disk on
// that transport, drop the page cache, read MIB MiB from /dev/vda with (time) dd, power off — and a
// table of throughput, traps per MiB and interrupts per MiB from the worker's counters
// (snapshots taken at the prompts just before and after the dd).
import type { InspectSnapshot } from "../../devices/inspect/snapshot.ts";
import { TRANSPORT_KINDS, type TransportKind } from "../../devices/virtio/device.ts";
import { PROMPT_RE } from "../../devices/vm/config.ts";
import { esc } from "./html.ts";
import { deviceTypeWithRole } from "../../devices/registry.ts";

export const COMPARE_MIB = 16;
const TIMEOUT_MS = 180_000;

export interface CompareHost {
  /** Power off (if on) and on again with the disk on `t`; resolves once the worker runs. */
  powerCycle(t: TransportKind): Promise<void>;
  powerOff(): Promise<void>;
  /** After the runs: put the page's own disk setting back. */
  restore(): void;
  transcript(): string;
  type(text: string): void;
}

export interface CompareRow {
  transport: TransportKind;
  mib: number;
  seconds: number;
  mibPerS: number;
  trapsPerMiB: number;
  /** All traps the CPU took (PIO + MMIO, every device) per MiB. */
  allTrapsPerMiB: number;
  interruptsPerMiB: number;
  notificationsPerMiB: number;
  requests: number;
  trapsPerRequest: number;
  error?: string;
}

// eslint-disable-next-line no-control-regex
const CSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
const KERNEL_LINE = /\[ *\d+\.\d+\] [^\n]*\n/g;

export class CompareRunner {
  running = false;

  constructor(private readonly host: CompareHost, private readonly snapshot: () => Promise<InspectSnapshot>, private readonly progress: (html: string) => void) {}

  async run(transports: readonly TransportKind[] = TRANSPORT_KINDS, mib = COMPARE_MIB): Promise<CompareRow[]> {
    this.running = true;
    const rows: CompareRow[] = [];
    try {
      for (const t of transports) {
        this.progress(`${compareTableHtml(rows)}<p>comparing: ${esc(t)} — booting…</p>`);
        try {
          rows.push(await this.one(t, mib));
        } catch (e) {
          rows.push({ transport: t, mib, seconds: 0, mibPerS: 0, trapsPerMiB: 0, allTrapsPerMiB: 0, interruptsPerMiB: 0, notificationsPerMiB: 0, requests: 0, trapsPerRequest: 0, error: e instanceof Error ? e.message : String(e) });
        }
        await this.host.powerOff();
      }
    } finally {
      this.host.restore();
      this.running = false;
    }
    return rows;
  }

  private async one(t: TransportKind, mib: number): Promise<CompareRow> {
    await this.host.powerCycle(t);
    await this.prompt(0);
    await this.exec("echo 3 > /proc/sys/vm/drop_caches");
    this.progress(`<p>comparing: ${esc(t)} — reading ${mib} MiB…</p>`);
    const a = await this.snapshot();
    const out = await this.exec(`time dd if=/dev/vda of=/dev/null bs=1M count=${mib}`);
    const b = await this.snapshot();
    const disk = deviceTypeWithRole("disk")?.name;
    const da = a.devices.find((d) => d.type === disk), db = b.devices.find((d) => d.type === disk);
    if (!da || !db) throw new Error("no virtio-blk device");
    // The shell's own `time` (guest time, which follows host time): the dd alone, without the
    // typing and prompt detection around it. The snapshots' interval if it did not print.
    const real = /real\s+(\d+)m\s*([\d.]+)s/.exec(out);
    const seconds = real ? Number(real[1]) * 60 + Number(real[2]) : (b.takenMs - a.takenMs) / 1000;
    if (!(seconds > 0)) throw new Error(`dd took no measurable time (${out.trim().split("\n").pop()})`);
    const all = (b.traps.pio + b.traps.mmio) - (a.traps.pio + a.traps.mmio);
    return {
      transport: t, mib, seconds, mibPerS: mib / seconds,
      trapsPerMiB: (db.accessCount - da.accessCount) / mib,
      allTrapsPerMiB: all / mib,
      interruptsPerMiB: (db.stats.interrupts - da.stats.interrupts) / mib,
      notificationsPerMiB: (db.stats.notifications - da.stats.notifications) / mib,
      requests: db.stats.requests - da.stats.requests,
      trapsPerRequest: (db.accessCount - da.accessCount) / Math.max(1, db.stats.requests - da.stats.requests),
    };
  }

  /** Type `cmd` and wait for the next prompt; returns what the console printed meanwhile. */
  private async exec(cmd: string): Promise<string> {
    const from = this.host.transcript().length;
    this.host.type(`${cmd}\n`);
    await this.prompt(from);
    return this.host.transcript().slice(from).replace(CSI, "").replace(/\r\n?/g, "\n");
  }

  /** The shell prompt at the end of the output after `from` (kernel log lines ignored). */
  private async prompt(from: number): Promise<void> {
    const until = performance.now() + TIMEOUT_MS;
    for (;;) {
      const tail = this.host.transcript().slice(from).replace(CSI, "").replace(/\r\n?/g, "\n").replace(KERNEL_LINE, "");
      if (PROMPT_RE.test(tail)) return;
      if (performance.now() > until) throw new Error("no shell prompt");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function compareTableHtml(rows: readonly CompareRow[]): string {
  if (rows.length === 0) return "";
  const body = rows.map((r) => r.error
    ? `<tr data-transport="${r.transport}"><td>${r.transport}</td><td colspan="7" class="error">${esc(r.error)}</td></tr>`
    : `<tr data-transport="${r.transport}"><td>${r.transport}</td><td>${r.mibPerS.toFixed(2)}</td><td>${r.trapsPerMiB.toFixed(0)}</td><td>${r.allTrapsPerMiB.toFixed(0)}</td><td>${r.interruptsPerMiB.toFixed(1)}</td><td>${r.notificationsPerMiB.toFixed(1)}</td><td>${r.requests}</td><td>${r.trapsPerRequest.toFixed(1)}</td></tr>`).join("");
  return `<table class="compare" data-testid="compare-table"><caption>time dd if=/dev/vda of=/dev/null bs=1M count=${rows[0]!.mib}, after drop_caches; MiB/s from the shell's real time</caption>` +
    `<thead><tr><th>transport</th><th>MiB/s</th><th>device traps/MiB</th><th>all traps/MiB</th><th>interrupts/MiB</th><th>notifications/MiB</th><th>requests</th><th>device traps/request</th></tr></thead><tbody>${body}</tbody></table>`;
}
