// The control bar: power buttons, RAM and virtio device selects, the status line, the progress
// bar and the message line. Settings themselves (and their URL form) live in settings.ts. The
// device selects are made from the registry (one per device type the page offers), so a new
// device type gets its control without an edit here or in index.html.
import { PAGE_DEVICES, deviceChoices, roleChoice, settingsQuery, type Settings } from "./settings.ts";
import { GUEST_SPECS } from "../devices/vm/guests.ts";

export const MEM_CHOICES = [32, 64, 128, 256, 512] as const;

/** Put the settings in the address bar (no reload), so the link reproduces this setup. */
export function writeSettings(s: Settings): void {
  const q = settingsQuery(s, location.search);
  history.replaceState(null, "", `${location.pathname}?${q}${location.hash}`);
}

export type PowerState = "off" | "loading" | "running" | "halted";

export interface ControlHandlers {
  powerOn(): void;
  reset(): void;
  powerOff(): void;
  settingsChanged(s: Settings): void;
  /** The balloon size asked for, in MiB (applies to the running VM). */
  balloon?(mib: number): void;
  /** Save the machine in the browser and stop it; resume the saved one; download a state file. */
  suspend?(): void;
  resume?(): void;
  downloadState?(): void;
}

export class Controls {
  private readonly on = byId<HTMLButtonElement>("power-on");
  private readonly rst = byId<HTMLButtonElement>("reset");
  private readonly off = byId<HTMLButtonElement>("power-off");
  private readonly sus = byId<HTMLButtonElement>("suspend");
  private readonly res = byId<HTMLButtonElement>("resume");
  private readonly download = byId<HTMLButtonElement>("state-download");
  /** A suspended machine is stored (state-store.ts): Resume is offered while the VM is off. */
  private resumable = false;
  private readonly mem = byId<HTMLSelectElement>("mem");
  /** The guest menu: one entry per guest of the guest table (devices/vm/guests.ts). */
  private readonly guest = byId<HTMLSelectElement>("guest");
  /** One select per device type the page offers, by its URL parameter (also the element id). */
  private readonly devices = new Map<string, HTMLSelectElement>();
  private readonly balloonMiB = byId<HTMLInputElement>("balloon-mib");
  private readonly status = byId<HTMLElement>("status");
  private readonly progress = byId<HTMLProgressElement>("progress");
  private readonly msg = byId<HTMLElement>("message");
  /** The status line: `${state} — ${live} · ${detail}`; `live` (MIPS, uptime) is its own text node. */
  private readonly live = document.createTextNode("");
  /** The live text's box (style.css #status-live): its changes stay inside it. */
  private readonly liveBox = Object.assign(document.createElement("span"), { id: "status-live" });
  private statusState: PowerState = "off";
  private statusDetail = "";

  constructor(private settings: Settings, h: ControlHandlers) {
    const choices = new Set<number>([...MEM_CHOICES, settings.memMiB]);
    for (const m of [...choices].sort((a, b) => a - b)) this.mem.add(new Option(`${m} MiB`, String(m)));
    for (const g of GUEST_SPECS) this.guest.add(new Option(g.label, g.name));
    const bar = byId<HTMLElement>("device-controls");
    for (const t of PAGE_DEVICES()) {
      const label = document.createElement("label");
      const select = document.createElement("select");
      select.id = t.page.param;
      for (const c of deviceChoices(t)) {
        const text = c === t.page.off ? (t.page.offLabel ?? c) : (t.page.transportLabel?.(c) ?? c);
        select.add(new Option(text, c));
      }
      label.append(`${t.page.label} `, select);
      bar.append(label, " ");
      this.devices.set(t.page.param, select);
    }
    // The balloon's size applies live, while the VM runs (the driver inflates or deflates).
    this.balloonMiB.onchange = () => h.balloon?.(Math.max(0, Math.floor(Number(this.balloonMiB.value) || 0)));
    const changed = () => {
      const devices = { ...this.settings.devices };
      for (const [param, select] of this.devices) devices[param] = select.value;
      this.settings = { ...this.settings, memMiB: Number(this.mem.value), devices, guest: this.guest.value };
      h.settingsChanged(this.settings);
    };
    for (const s of this.selects()) s.onchange = changed;
    this.show(settings);
    this.on.onclick = () => h.powerOn();
    this.rst.onclick = () => h.reset();
    this.off.onclick = () => h.powerOff();
    this.sus.onclick = () => h.suspend?.();
    this.res.onclick = () => h.resume?.();
    this.download.onclick = () => h.downloadState?.();
    this.setState("off");
  }

  /** Reflect settings changed elsewhere (the URL, a picked disk image). */
  show(s: Settings): void {
    this.settings = s;
    this.mem.value = String(s.memMiB);
    this.guest.value = s.guest;
    for (const t of PAGE_DEVICES()) {
      const select = this.devices.get(t.page.param);
      if (select) select.value = s.devices[t.page.param] ?? t.page.off;
    }
    this.balloonMiB.parentElement!.hidden = roleChoice(s, "memory") === null;
  }

  setState(state: PowerState, detail = ""): void {
    const on = state === "running" || state === "loading";
    this.on.disabled = on;
    this.rst.disabled = state !== "running";
    this.off.disabled = state !== "running";
    this.sus.disabled = this.download.disabled = state !== "running";
    this.res.disabled = on || !this.resumable;
    for (const s of this.selects()) s.disabled = on; // the machine's make-up is fixed while it is on
    this.status.dataset.state = state;
    this.statusState = state;
    this.statusDetail = detail;
    this.live.data = "";
    this.showStatus();
    if (state !== "loading") this.progress.hidden = true;
  }

  /** Whether a suspended machine is stored (the Resume button). */
  setResumable(yes: boolean): void {
    this.resumable = yes;
    this.res.disabled = this.statusState === "running" || this.statusState === "loading" || !yes;
  }

  /**
   * The running VM's live figures ("12.3 MIPS · up 42 min"), ahead of the detail. Only this text
   * node changes, and only when the text does: the rest of the line and the bar stay as they are.
   */
  setLive(text: string): void {
    const data = text && (this.statusDetail ? `${text} · ` : text);
    if (this.live.data !== data) this.live.data = data;
  }

  private showStatus(): void {
    const s = this.statusState, d = this.statusDetail;
    this.liveBox.replaceChildren(this.live);
    this.liveBox.hidden = this.live.data === "" && s !== "running";
    this.status.replaceChildren(d || this.live.data ? `${s} — ` : s, this.liveBox, d);
  }

  /** Progress of a load (`label`: what is loading); total 0 means unknown. */
  showProgress(label: string, loaded: number, total: number): void {
    this.progress.hidden = false;
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = loaded;
    } else {
      this.progress.removeAttribute("value"); // indeterminate
    }
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    this.status.textContent = `${label}… ${mib(loaded)}${total ? ` / ${mib(total)}` : ""} MiB`;
  }

  /** A load outside power-on (a picked file) finished: back to the state's own text. */
  endProgress(): void {
    this.progress.hidden = true;
    this.showStatus();
  }

  /** A message for the user (a rejected URL value or file); empty hides it. */
  message(text: string, kind: "error" | "info" = "error"): void {
    this.msg.hidden = text === "";
    this.msg.dataset.kind = kind;
    this.msg.textContent = text;
  }

  /** A message in place of the controls (no SharedArrayBuffer, a fatal start error). */
  fatal(message: string): void {
    for (const b of [this.on, this.rst, this.off, this.sus, this.res, this.download, ...this.selects()]) b.disabled = true;
    this.status.dataset.state = "error";
    this.status.textContent = message;
  }

  private selects(): HTMLSelectElement[] {
    return [this.guest, this.mem, ...this.devices.values()];
  }
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}
