// A picked image's contents checked off the page's main thread (guest-files.ts
// checkImageContents): unpacking an xz kernel or a large gzip initrd takes a second or more,
// which on the main thread froze the page. The bytes come and go back as a transfer, not a copy.
import { checkImageContents, ImageError, type ImageSlot } from "./guest-files.ts";

export interface ImageCheckRequest { slot: ImageSlot; name: string; bytes: Uint8Array }
/** The bytes back, and the refusal if the file was refused. */
export interface ImageCheckReply { bytes: Uint8Array; refused?: string; failed?: string }

self.onmessage = (ev: MessageEvent<ImageCheckRequest>) => {
  const { slot, name, bytes } = ev.data;
  const reply: ImageCheckReply = { bytes };
  try {
    checkImageContents(slot, name, bytes);
  } catch (e) {
    if (e instanceof ImageError) reply.refused = e.message;
    else reply.failed = (e as Error).message;
  }
  (self as unknown as Worker).postMessage(reply, [bytes.buffer]);
};
