// The virtio inspector panel (issue #7): beside the terminal, collapsible, or as the whole page
// (`?inspector=full`). While open it asks the worker for a snapshot ~4×/s (CMD_INSPECT) and
// renders it; while closed it asks for nothing, so the worker does nothing for it.
import type { DeviceSnapshot, InspectSnapshot } from "../../devices/inspect/snapshot.ts";
import { RUN_GO, RUN_PAUSE, RUN_STEP } from "../../devices/vm/session.ts";
import type { VmSession } from "../vm-host.ts";
import { HISTORY, drawChart, type Sample } from "./chart.ts";
import type { Change } from "./diff.ts";
import { deviceStatsHtml } from "./device-stats.ts";
import { natTableHtml, type NatView } from "./nat-table.ts";
import { deviceTypeWithRole } from "../../devices/registry.ts";

/** The NIC's type name (the NAT's table goes beside it). */
const NIC = deviceTypeWithRole("network")!.name;
import { stepChanges, stepHtml } from "./step.ts";
import { featuresHtml, statusHtml } from "./features.ts";
import { esc } from "./html.ts";
import { identityHtml } from "./identity.ts";
import { queuesHtml } from "./queues.ts";
import { rates } from "./rates.ts";
import { registersHtml } from "./registers.ts";
import { CompareRunner, compareTableHtml, type CompareHost, type CompareRow } from "./compare.ts";
import type { TransportKind } from "../../devices/virtio/device.ts";

export const POLL_MS = 250;
/** A snapshot asked for and not answered within this is asked for again (a command replaced it). */
const RETRY_MS = 1000;

const SECTIONS: [key: string, title: string, render: (d: DeviceSnapshot) => string][] = [
  ["identity", "Identity and transport", identityHtml],
  ["registers", "Registers", registersHtml],
  ["features", "Feature negotiation", featuresHtml],
  ["status", "Device status", statusHtml],
  ["queues", "Virtqueues", queuesHtml],
  ["device", "Device counters", deviceStatsHtml],
];

export interface InspectorHost extends CompareHost {
  session(): VmSession | undefined;
  /** Give the keyboard back to the terminal (after Pause / Step / Resume, the next thing is typing). */
  focusTerminal(): void;
  /** The page's NAT, shown beside the NIC when there is one. */
  natTable?(): NatView | null;
}

export class Inspector {
  readonly root: HTMLElement;
  private open = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private askedAt = -Infinity;
  private last: InspectSnapshot | null = null;
  private prevForRates: InspectSnapshot | null = null;
  private readonly history = new Map<string, Sample[]>();
  private readonly devices = new Map<string, { el: HTMLElement; bodies: Map<string, HTMLElement>; canvas: HTMLCanvasElement; rate: HTMLElement; nat: HTMLElement | null }>();
  private readonly waiters: ((s: InspectSnapshot) => void)[] = [];
  private stepBefore: InspectSnapshot | null = null;
  private stepChanges: Map<string, Change[]> | null = null;
  private runState = RUN_GO;
  private readonly compare: CompareRunner;
  private readonly els: { rates: HTMLElement; step: HTMLElement; compare: HTMLElement; devices: HTMLElement; state: HTMLElement };

  constructor(private readonly host: InspectorHost, private readonly toggleButton: HTMLButtonElement) {
    this.root = document.getElementById("inspector")!;
    this.root.innerHTML = `
      <div class="insp-toolbar">
        <b>virtio inspector</b>
        <button type="button" data-act="pause">Pause</button>
        <button type="button" data-act="step" title="run until the next virtqueue notification or interrupt, then pause">Step one request</button>
        <button type="button" data-act="resume">Resume</button>
        <button type="button" data-act="compare" title="read 16 MiB from the disk on each transport in turn">Compare transports</button>
        <button type="button" data-act="full">Full page</button>
        <span class="insp-state" data-testid="inspector-state"></span>
      </div>
      <div class="insp-rates" data-testid="rates"></div>
      <div class="insp-step" data-testid="step-changes"></div>
      <div class="insp-compare" data-testid="compare"></div>
      <div class="insp-devices"></div>`;
    const q = (sel: string) => this.root.querySelector<HTMLElement>(sel)!;
    this.els = { rates: q(".insp-rates"), step: q(".insp-step"), compare: q(".insp-compare"), devices: q(".insp-devices"), state: q(".insp-state") };
    this.compare = new CompareRunner(host, () => this.snapshotNow(), (html) => (this.els.compare.innerHTML = html));
    this.root.addEventListener("click", (ev) => {
      const act = (ev.target as HTMLElement).closest("button")?.dataset.act;
      if (act === "pause") this.setRun(RUN_PAUSE);
      else if (act === "step") this.step();
      else if (act === "resume") this.setRun(RUN_GO);
      if (act === "pause" || act === "step" || act === "resume") host.focusTerminal();
      else if (act === "compare") void this.runCompare();
      else if (act === "full") this.setFull(!document.body.classList.contains("inspector-full"));
    });
    toggleButton.onclick = () => this.setOpen(!this.open);
    const mode = new URLSearchParams(location.search).get("inspector");
    if (mode === "full") { this.setFull(true); this.setOpen(true); } else if (mode === "open") this.setOpen(true);
  }

  get isOpen(): boolean {
    return this.open;
  }

  setOpen(open: boolean): void {
    this.open = open;
    this.root.hidden = !open;
    document.body.classList.toggle("inspector-open", open);
    this.toggleButton.setAttribute("aria-pressed", String(open));
    this.remember();
    clearInterval(this.timer);
    this.timer = undefined;
    if (open) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.poll();
    } else if (this.waiters.length === 0) {
      this.prevForRates = null; // a gap in sampling: rates restart
    }
  }

  setFull(full: boolean): void {
    document.body.classList.toggle("inspector-full", full);
    this.root.querySelector<HTMLButtonElement>('[data-act="full"]')!.textContent = full ? "Beside the terminal" : "Full page";
    if (full && !this.open) this.setOpen(true);
    this.remember();
  }

  /** A new power-on: forget the old machine's devices and history. */
  powered(): void {
    this.last = this.prevForRates = this.stepBefore = null;
    this.stepChanges = null;
    this.runState = RUN_GO;
    this.askedAt = -Infinity;
    this.history.clear();
    this.devices.clear();
    this.els.devices.innerHTML = "";
    this.els.step.innerHTML = "";
    this.showState();
  }

  /** The VM stopped: the last snapshot stays on screen, marked as such. */
  stopped(): void {
    this.runState = RUN_GO;
    this.els.state.textContent = "VM off (last snapshot shown)";
    this.els.state.dataset.state = "off";
  }

  /** A snapshot arrived from the worker (VmHostEvents.inspect). */
  onSnapshot(s: InspectSnapshot, stepped: boolean): void {
    this.askedAt = -Infinity;
    for (const w of this.waiters.splice(0)) w(s);
    if (stepped && this.stepBefore) {
      this.stepChanges = stepChanges(this.stepBefore, s);
      this.runState = RUN_PAUSE;
      this.els.step.innerHTML = stepHtml(this.stepChanges, s);
      this.showState();
    }
    if (s.paused && this.runState === RUN_GO) this.runState = RUN_PAUSE;
    this.record(s);
    this.last = s;
    if (this.open) this.render(s);
  }

  /** Ask for one snapshot now (compare runs use it with the panel open or closed). */
  snapshotNow(): Promise<InspectSnapshot> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.ask(true);
    });
  }

  private poll(): void {
    if (!this.open || document.visibilityState === "hidden") return; // nothing to show it on
    this.ask(false);
  }

  private ask(force: boolean): void {
    const vm = this.host.session();
    if (!vm?.alive) return;
    const now = performance.now();
    if (!force && now - this.askedAt < RETRY_MS) return; // one outstanding request at a time
    if (vm.inspect()) this.askedAt = now;
    else if (force) setTimeout(() => this.ask(true), 20); // another command pending: try again
  }

  private setRun(state: number): void {
    const vm = this.host.session();
    if (!vm?.alive) return;
    this.runState = state;
    if (state === RUN_GO) { this.stepChanges = null; this.els.step.innerHTML = ""; }
    vm.setRunState(state);
    this.showState();
  }

  private step(): void {
    this.stepBefore = this.last;
    this.els.step.innerHTML = `<p>running to the next virtqueue notification or interrupt…</p>`;
    this.setRun(RUN_STEP);
  }

  private showState(): void {
    this.els.state.textContent = this.runState === RUN_GO ? "running" : this.runState === RUN_PAUSE ? "paused" : "stepping…";
    this.els.state.dataset.state = String(this.runState);
  }

  /** Counter history for the charts, one sample per snapshot. */
  private record(s: InspectSnapshot): void {
    const prev = this.last;
    for (const d of s.devices) {
      const h = this.history.get(d.name) ?? [];
      const p = prev?.devices.find((x) => x.name === d.name);
      if (p) {
        h.push({ requests: d.stats.requests - p.stats.requests, notifications: d.stats.notifications - p.stats.notifications, interrupts: d.stats.interrupts - p.stats.interrupts });
        if (h.length > HISTORY) h.shift();
      }
      this.history.set(d.name, h);
    }
  }

  private render(s: InspectSnapshot): void {
    this.showState();
    // Rates over about a second (several snapshots), so they do not jitter with each poll.
    if (!this.prevForRates || s.takenMs - this.prevForRates.takenMs > 5000 || s.takenMs < this.prevForRates.takenMs) this.prevForRates = s;
    const r = rates(this.prevForRates, s);
    if (r && r.seconds >= 0.9) {
      this.els.rates.innerHTML = `<span>exits/s: PIO <b data-testid="pio-rate">${r.pioPerS.toFixed(0)}</b>, MMIO <b>${r.mmioPerS.toFixed(0)}</b></span> <span>interrupts/s <b>${r.interruptsPerS.toFixed(0)}</b></span> <span class="muted">${(s.instructions / 1e6).toFixed(1)} M instructions${s.paused ? " · paused" : ""}</span>`;
      for (const d of r.devices) {
        const el = this.devices.get(d.name)?.rate;
        if (el) el.innerHTML = `traps/s ${d.trapsPerS.toFixed(0)} (PIO ${d.pioPerS.toFixed(0)}, MMIO ${d.mmioPerS.toFixed(0)}) · notifications/s ${d.notificationsPerS.toFixed(0)} · interrupts/s ${d.interruptsPerS.toFixed(0)} · requests/s ${d.requestsPerS.toFixed(0)} · traps/request ${d.trapsPerRequest === null ? "—" : d.trapsPerRequest.toFixed(1)}`;
      }
      this.prevForRates = s;
    }
    const names = s.devices.map((d) => d.name).join(",");
    if ([...this.devices.keys()].join(",") !== names) this.build(s);
    if (s.devices.length === 0) this.els.devices.innerHTML = `<p class="muted">no virtio devices in this machine</p>`;
    for (const d of s.devices) {
      const box = this.devices.get(d.name)!;
      for (const [key, , render] of SECTIONS) {
        const body = box.bodies.get(key)!;
        if ((body.parentElement as HTMLDetailsElement).open) refresh(body, render(d));
      }
      const changed = this.stepChanges?.get(d.name);
      if (changed?.length) {
        const set = new Set(changed.map((c) => c.path));
        for (const el of box.el.querySelectorAll<HTMLElement>("[data-path]")) if (set.has(el.dataset.path!) || [...set].some((p) => p.startsWith(`${el.dataset.path}.`))) el.classList.add("changed");
      }
      const nat = box.nat && (box.nat.parentElement as HTMLDetailsElement).open ? this.host.natTable?.() : null;
      if (nat) refresh(box.nat!, natTableHtml(nat));
      drawChart(box.canvas, this.history.get(d.name) ?? []);
    }
  }

  private build(s: InspectSnapshot): void {
    this.devices.clear();
    this.els.devices.innerHTML = "";
    for (const d of s.devices) {
      const el = document.createElement("article");
      el.className = "insp-device";
      el.dataset.device = d.name;
      el.innerHTML = `<h3>${esc(d.name)} <small>virtio-${esc(d.type)} (id ${d.deviceId}) on ${esc(d.transport)}</small></h3>` +
        `<div class="insp-activity"><canvas width="360" height="70"></canvas><p class="insp-dev-rates muted"></p></div>` +
        SECTIONS.map(([key, title]) => `<details open data-section="${key}"><summary>${title}</summary><div class="body"></div></details>`).join("") +
        (d.type === NIC && this.host.natTable?.() ? `<details open data-section="nat"><summary>NAT connections</summary><div class="body"></div></details>` : "");
      const bodies = new Map<string, HTMLElement>();
      for (const [key] of SECTIONS) bodies.set(key, el.querySelector<HTMLElement>(`[data-section="${key}"] .body`)!);
      this.els.devices.append(el);
      this.devices.set(d.name, { el, bodies, canvas: el.querySelector("canvas")!, rate: el.querySelector(".insp-dev-rates")!, nat: el.querySelector<HTMLElement>('[data-section="nat"] .body') });
    }
  }

  /** Run the transport comparison (the button: all five, 16 MiB) and show its table. */
  async runCompare(transports?: readonly TransportKind[], mib?: number): Promise<CompareRow[]> {
    if (this.compare.running) return [];
    const rows = await this.compare.run(transports, mib);
    this.els.compare.innerHTML = compareTableHtml(rows);
    return rows;
  }

  /** The address keeps the panel's mode, so a link opens it the same way. */
  private remember(): void {
    const q = new URLSearchParams(location.search);
    const mode = !this.open ? null : document.body.classList.contains("inspector-full") ? "full" : "open";
    if (mode) q.set("inspector", mode);
    else q.delete("inspector");
    history.replaceState(null, "", `${location.pathname}?${q}${location.hash}`);
  }
}

/**
 * Replace a section body, keeping what the reader did inside it: which nested <details> (those
 * with a data-key) are open, and how far scrolled each keyed element is.
 */
function refresh(body: HTMLElement, html: string): void {
  const kept = new Map<string, { open: boolean; top: number }>();
  for (const el of body.querySelectorAll<HTMLElement>("[data-key]")) {
    kept.set(el.dataset.key!, { open: el instanceof HTMLDetailsElement && el.open, top: el.scrollTop });
  }
  body.innerHTML = html;
  for (const el of body.querySelectorAll<HTMLElement>("[data-key]")) {
    const k = kept.get(el.dataset.key!);
    if (!k) continue;
    if (el instanceof HTMLDetailsElement) el.open = k.open;
    el.scrollTop = k.top;
  }
}
