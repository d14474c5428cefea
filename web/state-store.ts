// The suspended machine in browser storage: a whole state and the increments saved after it
// (devices/state/snapshot.ts), oldest first, with a small record of what they are. In the
// origin private file system (OPFS) where the browser has it, else in IndexedDB (idb-keyval,
// as the page's disks are):
//
//   OPFS directory "vireo-suspend" / IndexedDB "vireo-suspend" store "files"
//     <id>.vmstate   Uint8Array      one state file, named by its identity (stateId)
//     meta           SuspendMeta     the chain, in order, and the settings it runs with
//
// A part is written before the record that lists it, and dropped only after a record that no
// longer lists it is written, so a write cut short (a closed tab) leaves the previous chain
// whole. The files are checked again when resumed: storage is untrusted like any state file.
import { createStore, del, get, keys, set, type UseStore } from "idb-keyval";

export interface SuspendMeta {
  format: 1;
  /** The state files, oldest first: a whole state, then increments (by identity). */
  parts: { id: string; bytes: number }[];
  /** The page's settings (their URL query) the machine was powered on with. */
  settings: string;
  /** The end of the console's output when the newest part was saved, to show it again. */
  screen: string;
  /** When the newest part was saved (ms since the epoch). */
  savedAt: number;
}

/** What the record keeps beside the states. */
export type SuspendExtra = Pick<SuspendMeta, "settings" | "screen">;

/** Where the files go: OPFS or IndexedDB, the same few operations. */
interface Files {
  read(name: string): Promise<Uint8Array | null>;
  write(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  names(): Promise<string[]>;
}

const DIR = "vireo-suspend";
const META = "meta";

async function opfsFiles(): Promise<Files | null> {
  const storage = navigator.storage as StorageManager & { getDirectory?: () => Promise<FileSystemDirectoryHandle> };
  if (typeof storage?.getDirectory !== "function") return null;
  try {
    const dir = await (await storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
    const probe = await dir.getFileHandle(".probe", { create: true });
    if (typeof (probe as FileSystemFileHandle & { createWritable?: unknown }).createWritable !== "function") return null;
    return {
      async read(name) {
        try {
          const f = await (await dir.getFileHandle(name)).getFile();
          return new Uint8Array(await f.arrayBuffer());
        } catch {
          return null;
        }
      },
      async write(name, bytes) {
        const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
        await w.write(bytes as Uint8Array<ArrayBuffer>);
        await w.close();
      },
      async remove(name) {
        await dir.removeEntry(name).catch(() => {});
      },
      async names() {
        const out: string[] = [];
        for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(key);
        return out;
      },
    };
  } catch {
    return null; // OPFS refused (a private window, a policy): IndexedDB instead
  }
}

function idbFiles(): Files {
  const store: UseStore = createStore(DIR, "files");
  return {
    read: async (name) => (await get<Uint8Array>(name, store)) ?? null,
    write: (name, bytes) => set(name, bytes, store),
    remove: (name) => del(name, store),
    names: async () => (await keys(store)).map(String),
  };
}

const partName = (id: string) => `${id}.vmstate`;
const enc = new TextEncoder(), dec = new TextDecoder();

function parseMeta(bytes: Uint8Array | null): SuspendMeta | null {
  if (!bytes) return null;
  try {
    const m = JSON.parse(dec.decode(bytes)) as SuspendMeta;
    const ok = m.format === 1 && Array.isArray(m.parts) && m.parts.length > 0 && typeof m.settings === "string" && typeof m.screen === "string" &&
      m.parts.every((p) => typeof p.id === "string" && /^[0-9a-f]{64}$/.test(p.id) && Number.isSafeInteger(p.bytes));
    return ok ? m : null;
  } catch {
    return null;
  }
}

export class StateStore {
  private files: Promise<Files> | null = null;
  /** Which storage holds the states: "opfs" or "indexeddb" (once used). */
  kind = "";

  private open(): Promise<Files> {
    return (this.files ??= opfsFiles().then((f) => {
      this.kind = f ? "opfs" : "indexeddb";
      return f ?? idbFiles();
    }));
  }

  /** The stored chain's record, or null when nothing (usable) is stored. */
  async meta(): Promise<SuspendMeta | null> {
    return parseMeta(await (await this.open()).read(META));
  }

  /** The stored chain's files, oldest first, with progress by bytes; null if a part is missing. */
  async load(onProgress: (loaded: number, total: number) => void): Promise<{ meta: SuspendMeta; files: Uint8Array[] } | null> {
    const f = await this.open();
    const meta = await this.meta();
    if (!meta) return null;
    const total = meta.parts.reduce((n, p) => n + p.bytes, 0);
    const files: Uint8Array[] = [];
    let loaded = 0;
    for (const p of meta.parts) {
      const bytes = await f.read(partName(p.id));
      if (!bytes) return null;
      files.push(bytes);
      onProgress((loaded += bytes.length), total);
    }
    return { meta, files };
  }

  /**
   * Store a state: a whole one starts a new chain; an increment extends the stored chain when
   * its base is the chain's newest part (else it is not stored: it could never be resumed).
   * Returns the chain's record after, or null when the increment did not fit the chain.
   */
  async put(state: { bytes: Uint8Array; id: string; base: string | null }, extra: SuspendExtra): Promise<SuspendMeta | null> {
    const f = await this.open();
    const old = await this.meta();
    let parts: SuspendMeta["parts"];
    if (state.base === null) parts = [];
    else if (old && old.parts[old.parts.length - 1]!.id === state.base) parts = old.parts;
    else return null;
    await f.write(partName(state.id), state.bytes);
    const meta: SuspendMeta = { format: 1, parts: [...parts, { id: state.id, bytes: state.bytes.length }], ...extra, savedAt: Date.now() };
    await f.write(META, enc.encode(JSON.stringify(meta)));
    await this.sweep(f, meta);
    return meta;
  }

  /** Forget the suspended machine. */
  async clear(): Promise<void> {
    const f = await this.open();
    await f.remove(META);
    await this.sweep(f, null);
  }

  /** Drop every state file the record does not list (left by a replaced chain or a cut write). */
  private async sweep(f: Files, meta: SuspendMeta | null): Promise<void> {
    const keep = new Set(meta?.parts.map((p) => partName(p.id)) ?? []);
    for (const name of await f.names()) if (name.endsWith(".vmstate") && !keep.has(name)) await f.remove(name);
  }
}
