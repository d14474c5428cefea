// Guest images as bytes, with progress: the bundled default guest (fetched) and files the user
// picks or drops (read locally).
import kernelUrl from "../guest-images/bzImage?url";
import initrdUrl from "../guest-images/initramfs.cpio.gz?url";

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

let cached: Promise<GuestImages> | undefined;

/** The default guest (kernel + initramfs), loaded once per page; progress sums both files. */
export function loadDefaultGuest(onProgress: Progress): Promise<GuestImages> {
  if (!cached) {
    const state = { k: [0, 0], i: [0, 0] };
    const report = () => onProgress(state.k[0]! + state.i[0]!, state.k[1]! && state.i[1]! ? state.k[1]! + state.i[1]! : 0);
    cached = Promise.all([
      fetchBytes(kernelUrl, (l, t) => ((state.k = [l, t]), report())),
      fetchBytes(initrdUrl, (l, t) => ((state.i = [l, t]), report())),
    ]).then(([kernel, initrd]) => ({ kernel, initrd }));
    cached.catch(() => (cached = undefined)); // a failed load may be retried
  }
  return cached;
}
