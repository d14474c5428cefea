// Settings and the control bar. Every setting lives in the URL query too (?mem=128&autoboot=1)
// so a link reproduces a setup.

export const MEM_CHOICES = [32, 64, 128, 256, 512] as const;

export interface Settings {
  memMiB: number;
  autoboot: boolean;
}

export function readSettings(search = location.search): Settings {
  const q = new URLSearchParams(search);
  const mem = Number(q.get("mem") ?? 128);
  return {
    memMiB: Number.isInteger(mem) && mem >= 16 && mem <= 2000 ? mem : 128,
    autoboot: q.get("autoboot") === "1",
  };
}

export function writeSettings(s: Settings): void {
  const q = new URLSearchParams(location.search);
  q.set("mem", String(s.memMiB));
  if (s.autoboot) q.set("autoboot", "1");
  else q.delete("autoboot");
  history.replaceState(null, "", `${location.pathname}?${q}${location.hash}`);
}

export type PowerState = "off" | "loading" | "running" | "halted";

export interface ControlHandlers {
  powerOn(): void;
  reset(): void;
  powerOff(): void;
  settingsChanged(s: Settings): void;
}

export class Controls {
  private readonly on = byId<HTMLButtonElement>("power-on");
  private readonly rst = byId<HTMLButtonElement>("reset");
  private readonly off = byId<HTMLButtonElement>("power-off");
  private readonly mem = byId<HTMLSelectElement>("mem");
  private readonly status = byId<HTMLElement>("status");
  private readonly progress = byId<HTMLProgressElement>("progress");

  constructor(private settings: Settings, h: ControlHandlers) {
    const choices = new Set<number>([...MEM_CHOICES, settings.memMiB]);
    for (const m of [...choices].sort((a, b) => a - b)) this.mem.add(new Option(`${m} MiB`, String(m)));
    this.mem.value = String(settings.memMiB);
    this.mem.onchange = () => {
      this.settings = { ...this.settings, memMiB: Number(this.mem.value) };
      h.settingsChanged(this.settings);
    };
    this.on.onclick = () => h.powerOn();
    this.rst.onclick = () => h.reset();
    this.off.onclick = () => h.powerOff();
    this.setState("off");
  }

  setState(state: PowerState, detail = ""): void {
    const on = state === "running" || state === "loading";
    this.on.disabled = on;
    this.rst.disabled = state !== "running";
    this.off.disabled = state !== "running";
    this.mem.disabled = on; // RAM is fixed while the machine is on
    this.status.dataset.state = state;
    this.status.textContent = detail ? `${state} — ${detail}` : state;
    if (state !== "loading") this.progress.hidden = true;
  }

  showProgress(loaded: number, total: number): void {
    this.progress.hidden = false;
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = loaded;
    } else {
      this.progress.removeAttribute("value"); // indeterminate
    }
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    this.status.textContent = `loading guest images… ${mib(loaded)}${total ? ` / ${mib(total)}` : ""} MiB`;
  }

  /** A message in place of the controls (no SharedArrayBuffer, a fatal start error). */
  fatal(message: string): void {
    for (const b of [this.on, this.rst, this.off, this.mem]) b.disabled = true;
    this.status.dataset.state = "error";
    this.status.textContent = message;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}
