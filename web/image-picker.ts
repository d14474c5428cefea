// The user's own guest images: a file input per slot (kernel, initrd, disk), drag & drop of files
// onto a slot or anywhere on the page, and "Use default guest" to go back to the bundled one.
// Each file is read with progress and checked (guest-files.ts) before it replaces anything, so
// a bad file leaves the page as it was, with a message.
import type { BzImageInfo } from "../devices/board/linux-boot.ts";
import { byId } from "./controls.ts";
import { ImageError, checkImage, classify, type ImageSlot } from "./guest-files.ts";
import type { ImageCheckReply, ImageCheckRequest } from "./image-check.worker.ts";
import { readFile } from "./images.ts";

/** checkImageContents in a worker of its own (image-check.worker.ts), so the page stays
 *  responsive while a big image is unpacked; the bytes go there and back without a copy. */
function checkContents(slot: ImageSlot, name: string, bytes: Uint8Array): Promise<Uint8Array> {
  const worker = new Worker(new URL("./image-check.worker.ts", import.meta.url), { type: "module", name: "vireo-image-check" });
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<ImageCheckReply>) => {
      worker.terminate();
      const r = ev.data;
      if (r.refused !== undefined) reject(new ImageError(r.refused));
      else if (r.failed !== undefined) reject(new Error(r.failed));
      else resolve(r.bytes);
    };
    worker.onerror = (ev) => { worker.terminate(); reject(new Error(ev.message || "the image check failed")); };
    worker.postMessage({ slot, name, bytes: own } satisfies ImageCheckRequest, [own.buffer]);
  });
}

export interface PickedImage {
  name: string;
  bytes: Uint8Array;
  /** A kernel's parsed setup header. */
  kernel?: BzImageInfo;
}

export type PickedImages = Partial<Record<ImageSlot, PickedImage>>;

export interface PickerHandlers {
  progress(label: string, loaded: number, total: number): void;
  /** A read finished, well or not. */
  done(): void;
  accepted(slot: ImageSlot, image: PickedImage): void;
  rejected(message: string): void;
  /** Back to the bundled guest. */
  cleared(): void;
  /** The bundled kernel's file name (it depends on the board). */
  bundledKernel(): string;
}

const SLOTS: readonly ImageSlot[] = ["kernel", "initrd", "disk"];
const DEFAULT_LABEL: Record<ImageSlot, (h: PickerHandlers) => string> = {
  kernel: (h) => `bundled ${h.bundledKernel()}`,
  initrd: () => "bundled initramfs",
  disk: () => "data disk (kept in this browser)",
};

export class ImagePicker {
  readonly picked: PickedImages = {};
  /** The last refusal per slot, shown on the slot until a file is accepted there. */
  private readonly refused: Partial<Record<ImageSlot, string>> = {};
  private queue: Promise<void> = Promise.resolve(); // one file at a time: one progress bar

  constructor(private readonly h: PickerHandlers) {
    for (const slot of SLOTS) {
      const input = byId<HTMLInputElement>(`pick-${slot}`);
      input.onchange = () => {
        const file = input.files?.[0];
        input.value = ""; // picking the same file again still fires a change
        if (file) this.take(file, slot);
      };
    }
    byId<HTMLButtonElement>("use-default").onclick = () => this.useDefault();
    this.listenForDrops();
    this.render();
  }

  /** Read, check and keep `file` for `slot` (no slot: decided by the file's first bytes). */
  take(file: File, slot?: ImageSlot): Promise<void> {
    this.queue = this.queue.then(() => this.read(file, slot));
    return this.queue;
  }

  useDefault(): void {
    for (const slot of SLOTS) {
      delete this.picked[slot];
      delete this.refused[slot];
    }
    this.render();
    this.h.cleared();
  }

  private async read(file: File, slot?: ImageSlot): Promise<void> {
    let target = slot;
    try {
      target ??= classify(new Uint8Array(await file.slice(0, 1024).arrayBuffer()));
      const bytes = await readFile(file, (loaded, total) => this.h.progress(`reading ${file.name}`, loaded, total));
      const kernel = checkImage(target, file.name, bytes);
      const checked = await checkContents(target, file.name, bytes);
      const image: PickedImage = { name: file.name, bytes: checked, kernel };
      this.picked[target] = image;
      delete this.refused[target];
      this.render();
      this.h.accepted(target, image);
    } catch (e) {
      const message = e instanceof ImageError ? e.message : `${file.name}: cannot read the file (${(e as Error).message})`;
      if (target) {
        this.refused[target] = message;
        this.render();
      }
      this.h.rejected(message);
    } finally {
      this.h.done();
    }
  }

  private render(): void {
    for (const slot of SLOTS) {
      const p = this.picked[slot];
      const out = byId<HTMLElement>(`${slot}-file`);
      out.textContent = p ? `${p.name} (${(p.bytes.length / 2 ** 20).toFixed(1)} MiB)` : DEFAULT_LABEL[slot](this.h);
      out.dataset.picked = p ? "1" : "";
      // A refused file: the slot keeps what it had, and says why the new one was not taken.
      const why = this.refused[slot];
      out.title = why ?? "";
      if (why) out.textContent += ` — refused: ${why}`;
      out.dataset.refused = why ? "1" : "";
    }
  }

  // A file dropped on a slot goes to that slot; dropped anywhere else, classify() places it.
  private listenForDrops(): void {
    const body = document.body;
    body.addEventListener("dragover", (ev) => {
      if (!ev.dataTransfer?.types.includes("Files")) return;
      ev.preventDefault(); // without this the browser would open the file instead
      ev.dataTransfer.dropEffect = "copy";
      body.classList.add("dragging");
    });
    body.addEventListener("dragleave", (ev) => {
      if (ev.relatedTarget === null) body.classList.remove("dragging");
    });
    body.addEventListener("drop", (ev) => {
      body.classList.remove("dragging");
      const files = [...(ev.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      ev.preventDefault();
      const el = (ev.target as Element | null)?.closest<HTMLElement>("[data-slot]");
      const slot = el?.dataset.slot as ImageSlot | undefined;
      for (const f of files) void this.take(f, slot);
    });
  }
}
