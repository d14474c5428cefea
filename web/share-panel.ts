// The shared folder's controls: "Pick folder…" (or a folder dropped on the page) copies a
// folder from the user's disk into the IndexedDB folder the guest mounts (tag "share",
// web/idb-share.ts) — through the File System Access API's directory picker (or drop handle)
// where the browser has it, else an <input webkitdirectory> (or the dropped entry);
// "Save to folder" writes the guest's version back into the picked folder (File System Access
// only: other browsers cannot write to a folder); "Clear folder" empties it.
//
// All three only while the VM is off: the running guest holds the folder in the worker's memory
// and writes through to IndexedDB; changing IndexedDB under it would be overwritten or lost.
import { withoutLinks, type MemoryFsEntry } from "../devices/p9/memory-fs.ts";
import { readIdbShare, replaceIdbShare } from "./idb-share.ts";
import { byId } from "./controls.ts";

type PowerState = "off" | "loading" | "running" | "halted";

/** The File System Access API pieces used here (not in TypeScript's DOM lib everywhere). */
interface DirHandle {
  kind: "directory";
  name: string;
  values(): AsyncIterable<DirHandle | FileHandle>;
  getDirectoryHandle(name: string, o?: { create?: boolean }): Promise<DirHandle>;
  getFileHandle(name: string, o?: { create?: boolean }): Promise<FileHandle>;
  requestPermission?(o: { mode: "readwrite" }): Promise<string>;
}
interface FileHandle {
  kind: "file";
  name: string;
  getFile(): Promise<File>;
  createWritable(): Promise<{ write(d: Uint8Array): Promise<void>; close(): Promise<void> }>;
}
type PickerWindow = { showDirectoryPicker?: (o?: { mode?: string }) => Promise<DirHandle> };

/** A picked folder's files as dump entries (directories are implied by paths, and kept when empty). */
export async function entriesFromHandle(dir: DirHandle, path: string[] = [], out: MemoryFsEntry[] = []): Promise<MemoryFsEntry[]> {
  for await (const h of dir.values()) {
    const p = [...path, h.name];
    if (h.kind === "directory") {
      out.push({ path: p, kind: "dir", mode: 0o755, mtimeMs: Date.now() });
      await entriesFromHandle(h, p, out);
    } else {
      const f = await h.getFile();
      out.push({ path: p, kind: "file", mode: 0o644, mtimeMs: f.lastModified, data: new Uint8Array(await f.arrayBuffer()) });
    }
  }
  return out;
}

/** Files from <input webkitdirectory>: webkitRelativePath starts with the folder's own name. */
export async function entriesFromFiles(files: Iterable<File>): Promise<MemoryFsEntry[]> {
  const out: MemoryFsEntry[] = [];
  for (const f of files) {
    const p = (f.webkitRelativePath || f.name).split("/").slice(1);
    if (p.length === 0) p.push(f.name);
    out.push({ path: p, kind: "file", mode: 0o644, mtimeMs: f.lastModified, data: new Uint8Array(await f.arrayBuffer()) });
  }
  return out;
}

/** A dropped folder through the older Entry API (browsers without getAsFileSystemHandle). */
async function entriesFromEntry(dir: FileSystemDirectoryEntry, path: string[] = [], out: MemoryFsEntry[] = []): Promise<MemoryFsEntry[]> {
  const reader = dir.createReader();
  for (;;) {
    // readEntries hands out a batch at a time; an empty batch is the end.
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    for (const e of batch) {
      const p = [...path, e.name];
      if (e.isDirectory) {
        out.push({ path: p, kind: "dir", mode: 0o755, mtimeMs: Date.now() });
        await entriesFromEntry(e as FileSystemDirectoryEntry, p, out);
      } else if (e.isFile) {
        const f = await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject));
        out.push({ path: p, kind: "file", mode: 0o644, mtimeMs: f.lastModified, data: new Uint8Array(await f.arrayBuffer()) });
      }
    }
  }
}

/** Write the stored folder into `dir` (files and directories; symlinks have no equivalent there). */
async function saveToHandle(dir: DirHandle, entries: MemoryFsEntry[]): Promise<number> {
  let n = 0;
  entries.sort((a, b) => a.path.length - b.path.length);
  for (const e of entries) {
    let d = dir;
    for (const c of e.path.slice(0, -1)) d = await d.getDirectoryHandle(c, { create: true });
    const name = e.path[e.path.length - 1]!;
    if (e.kind === "dir") await d.getDirectoryHandle(name, { create: true });
    else if (e.kind === "file") {
      const w = await (await d.getFileHandle(name, { create: true })).createWritable();
      await w.write(e.data ?? new Uint8Array(0));
      await w.close();
      n++;
    }
  }
  return n;
}

export class SharePanel {
  private readonly pick = byId<HTMLButtonElement>("share-pick");
  private readonly input = byId<HTMLInputElement>("share-input");
  private readonly save = byId<HTMLButtonElement>("share-save");
  private readonly clearButton = byId<HTMLButtonElement>("share-clear");
  private readonly info = byId<HTMLOutputElement>("share-info");
  private handle: DirHandle | null = null;
  private power: PowerState = "off";

  constructor(private readonly note: (m: string) => void) {
    const picker = (window as unknown as PickerWindow).showDirectoryPicker;
    this.pick.onclick = () => {
      if (!picker) return this.input.click();
      void picker({ mode: "readwrite" }).then(async (h) => {
        this.handle = h;
        await this.replace(await entriesFromHandle(h), h.name);
        this.update();
      }).catch((e: unknown) => { if ((e as Error)?.name !== "AbortError") this.note(`shared folder: ${(e as Error)?.message ?? e}`); });
    };
    this.input.onchange = () => {
      const files = [...(this.input.files ?? [])];
      this.input.value = "";
      void entriesFromFiles(files).then((e) => this.replace(e, files[0]?.webkitRelativePath.split("/")[0] ?? "folder"))
        .catch((e: unknown) => this.note(`shared folder: ${(e as Error)?.message ?? e}`));
    };
    this.save.onclick = () => void this.saveBack().catch((e: unknown) => this.note(`save shared folder: ${(e as Error)?.message ?? e}`));
    this.clearButton.onclick = () => {
      if (confirm("Empty the shared folder?")) void this.replace([], "").catch((e: unknown) => this.note(`clear shared folder: ${(e as Error)?.message ?? e}`));
    };
    this.listenForFolderDrops();
    void this.describe();
    this.update();
  }

  /**
   * A folder dropped anywhere on the page becomes the shared folder. Listens in the capture
   * phase so the image picker's drop handler (files → kernel, initrd or disk) never sees it.
   */
  private listenForFolderDrops(): void {
    window.addEventListener("drop", (ev) => {
      const items = [...(ev.dataTransfer?.items ?? [])];
      const at = items.findIndex((i) => i.webkitGetAsEntry?.()?.isDirectory);
      if (at < 0) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      document.body.classList.remove("dragging");
      // Both must be taken while the drop event runs: the items are emptied after it.
      const item = items[at]! as DataTransferItem & { getAsFileSystemHandle?: () => Promise<DirHandle | FileHandle | null> };
      const entry = item.webkitGetAsEntry() as FileSystemDirectoryEntry;
      const handle = item.getAsFileSystemHandle?.();
      void (async () => {
        const h = handle ? await handle : null;
        if (h?.kind === "directory") {
          this.handle = h;
          await this.replace(await entriesFromHandle(h), h.name);
        } else {
          await this.replace(await entriesFromEntry(entry), entry.name);
        }
        this.update();
      })().catch((e: unknown) => this.note(`shared folder: ${(e as Error)?.message ?? e}`));
    }, true);
  }

  setPowerState(s: PowerState): void {
    this.power = s;
    this.update();
  }

  /** Replace the folder's contents (the picker, the test hook). */
  async replace(entries: MemoryFsEntry[], from: string): Promise<void> {
    if (this.power === "running" || this.power === "loading") throw new Error("power the VM off first");
    await replaceIdbShare(entries);
    if (from) this.note(`shared folder: ${entries.filter((e) => e.kind === "file").length} files from '${from}'; in the guest: mount -t 9p -o trans=virtio share /mnt`);
    await this.describe();
  }

  private async saveBack(): Promise<void> {
    if (!this.handle) return;
    if (this.handle.requestPermission && (await this.handle.requestPermission({ mode: "readwrite" })) !== "granted") throw new Error("permission denied");
    const n = await saveToHandle(this.handle, withoutLinks(await readIdbShare()));
    this.note(`shared folder: ${n} files written to '${this.handle.name}'`);
  }

  private async describe(): Promise<void> {
    const e = await readIdbShare().catch(() => []);
    const files = e.filter((x) => x.kind === "file");
    // Stored bytes: a hard-linked file's once (its inode entry).
    const bytes = e.reduce((n, f) => n + (f.data?.length ?? 0), 0);
    this.info.textContent = `${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB`;
  }

  private update(): void {
    const on = this.power === "running" || this.power === "loading";
    this.pick.disabled = this.clearButton.disabled = on;
    this.save.hidden = this.handle === null;
    this.save.disabled = on;
    if (!on) void this.describe();
  }
}
