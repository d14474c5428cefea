// Guest images as bytes, with progress: the bundled default guest (fetched) and files the user
// picks or drops (read locally).
import picKernelUrl from "../guest-images/bzImage?url";
import apicKernelUrl from "../guest-images/bzImage-apic?url";
import initrdUrl from "../guest-images/initramfs.cpio.gz?url";

/** The bundled kernel of each board: its file name and URL. */
const DEFAULT_KERNELS = { apic: ["bzImage-apic", apicKernelUrl], pic: ["bzImage", picKernelUrl] } as const;

/** The bundled kernel's file name on the APIC board or the PIC-only one. */
export const defaultKernelName = (apic: boolean): string => DEFAULT_KERNELS[apic ? "apic" : "pic"][0];

export type Progress = (loaded: number, total: number) => void;

/** Fetch `url` fully; `onProgress` after every chunk (total 0 when the server sends no length). */
export async function fetchBytes(url: string, onProgress: Progress): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  // Content-Length counts the bytes on the wire: with a Content-Encoding it is not what the
  // reader yields, so the progress is indeterminate then.
  const total = res.headers.get("Content-Encoding") ? 0 : Number(res.headers.get("Content-Length")) || 0;
  return readAll(res.body, total, onProgress);
}

/** Read a file the user picked or dropped, with progress (a disk image may be hundreds of MiB). */
export function readFile(file: Blob, onProgress: Progress): Promise<Uint8Array> {
  return readAll(file.stream(), file.size, onProgress);
}

async function readAll(stream: ReadableStream<Uint8Array>, total: number, onProgress: Progress): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total && Math.max(total, loaded));
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export interface GuestImages {
  kernel: Uint8Array;
  initrd: Uint8Array;
}

/** Each bundled file's bytes, fetched once per page (a failed load may be retried). */
const loaded = new Map<string, Promise<Uint8Array>>();

function bundled(url: string, onProgress: Progress): Promise<Uint8Array> {
  let p = loaded.get(url);
  if (!p) {
    p = fetchBytes(url, onProgress);
    loaded.set(url, p);
    p.catch(() => loaded.delete(url));
  }
  return p;
}

/**
 * The default guest for a board, kernel + initramfs; progress sums both files. The APIC board
 * boots bzImage-apic (the same kernel with the local APIC, the I/O APIC and PCI MSI), the
 * PIC-only board bzImage, the kernel built for it.
 */
export function loadDefaultGuest(apic: boolean, onProgress: Progress): Promise<GuestImages> {
  const [, kernelUrl] = DEFAULT_KERNELS[apic ? "apic" : "pic"];
  const state = { k: [0, 0], i: [0, 0] };
  const report = () => onProgress(state.k[0]! + state.i[0]!, state.k[1]! && state.i[1]! ? state.k[1]! + state.i[1]! : 0);
  return Promise.all([
    bundled(kernelUrl, (l, t) => ((state.k = [l, t]), report())),
    bundled(initrdUrl, (l, t) => ((state.i = [l, t]), report())),
  ]).then(([kernel, initrd]) => ({ kernel, initrd }));
}
