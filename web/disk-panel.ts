// The data disk's two buttons: "Reset disk" forgets every change saved in IndexedDB, "Download
// disk image" saves the disk as the guest would see it (base + saved changes) as a raw image.
//
// Reset only while the VM is off: a running guest keeps parts of the file system in its page
// cache and the worker keeps unsaved blocks in memory, so removing the blocks under it would
// corrupt the file system, and its next write-back would bring old blocks back. Powering off
// first also saves whatever the guest wrote (devices/vm/session.ts), so there is no reason to do
// it implicitly. Download works at any time but gives what is saved: while the VM runs, that is
// what the guest has synced (fsync, or `sync` plus half a second of idle); after power off, all.
import { deleteIdbDisk, readIdbDisk, withIdbDiskLock } from "./idb-disk.ts";
import { DATA_DISK_NAME, loadDataDiskBase } from "./data-disk.ts";

export interface DiskPanelHost {
  /** A line on the terminal. */
  note(message: string): void;
}

export type PowerState = "off" | "loading" | "running" | "halted";

export class DiskPanel {
  private readonly resetButton: HTMLButtonElement;
  private readonly downloadButton: HTMLButtonElement;
  private power: PowerState = "off";
  private busy: Promise<unknown> = Promise.resolve();
  private working = false;

  constructor(private readonly host: DiskPanelHost) {
    this.resetButton = byId("disk-reset");
    this.downloadButton = byId("disk-download");
    this.resetButton.onclick = () => {
      if (confirm("Erase everything written to the data disk?")) void this.reset().catch((e) => host.note(`reset disk: ${message(e)}`));
    };
    this.downloadButton.onclick = () => void this.download().catch((e) => host.note(`download disk: ${message(e)}`));
    this.update();
  }

  setPowerState(state: PowerState): void {
    this.power = state;
    this.update();
  }

  /** Resolves once no reset or download is in progress (power-on waits for a reset). */
  settled(): Promise<void> {
    return this.busy.then(
      () => {},
      () => {},
    );
  }

  /** Delete the saved changes; the disk is the bundled empty image again at the next power-on. */
  reset(): Promise<void> {
    if (this.poweredOn) return Promise.reject(new Error("power the VM off first"));
    return this.run(async () => {
      await withIdbDiskLock(DATA_DISK_NAME, () => deleteIdbDisk(DATA_DISK_NAME)); // not under another tab's VM
      this.host.note("data disk reset: it is empty again at the next power-on");
    });
  }

  /** Save base + saved changes as vireo-data.img. */
  download(): Promise<void> {
    return this.run(async () => {
      const bytes = await readIdbDisk(DATA_DISK_NAME, await loadDataDiskBase(), (m) => this.host.note(m));
      const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "vireo-data.img";
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download has its own reference by then
    });
  }

  private get poweredOn(): boolean {
    return this.power === "running" || this.power === "loading";
  }

  private run(job: () => Promise<void>): Promise<void> {
    const p = this.settled().then(async () => {
      this.working = true;
      this.update();
      try {
        await job();
      } finally {
        this.working = false;
        this.update();
      }
    });
    this.busy = p;
    return p;
  }

  private update(): void {
    this.resetButton.disabled = this.working || this.poweredOn;
    this.resetButton.title = this.poweredOn ? "Power off first" : "Erase the data disk's saved changes";
    this.downloadButton.disabled = this.working;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}
