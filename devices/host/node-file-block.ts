// A disk image file as a BlockBackend, for the Node VM worker (the CLI and tests). Kept apart
// from block.ts so the browser build never sees `node:fs`. The fd is opened in the worker that
// runs the device model, since fds do not cross worker_threads; every call is synchronous, as
// the trap handler needs (block.ts).
import * as fs from "node:fs";
import { checkBlockSize, inBounds, type BlockBackend } from "./block.ts";

export interface NodeFileBlockOptions {
  /** Open O_RDONLY and offer the disk read-only to the guest. */
  readonly?: boolean;
  /** GET_ID string; default: the file's base name, cut to 20 bytes by the device. */
  id?: string;
}

export class NodeFileBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readonly: boolean;
  readonly id: string;
  private fd: number;

  constructor(readonly path: string, opts: NodeFileBlockOptions = {}) {
    this.readonly = opts.readonly ?? false;
    this.fd = fs.openSync(path, this.readonly ? "r" : "r+");
    try {
      const st = fs.fstatSync(this.fd);
      if (!st.isFile() && !st.isBlockDevice()) throw new Error(`${path}: not a regular file`);
      checkBlockSize(st.size, path);
      this.size = st.size;
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
    this.id = opts.id ?? (path.split(/[\\/]/).pop() ?? path);
  }

  read(offset: number, dst: Uint8Array): void {
    if (!inBounds(this.size, offset, dst.length)) throw new RangeError(`read outside ${this.path}: ${offset}+${dst.length}`);
    // readSync may return fewer bytes than asked (never at EOF here: the range is in bounds).
    for (let done = 0; done < dst.length; ) {
      const n = fs.readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) throw new Error(`${this.path}: short read at ${offset + done}`);
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readonly) throw new Error(`${this.path}: opened read-only`);
    if (!inBounds(this.size, offset, src.length)) throw new RangeError(`write outside ${this.path}: ${offset}+${src.length}`);
    for (let done = 0; done < src.length; ) {
      const n = fs.writeSync(this.fd, src, done, src.length - done, offset + done);
      if (n <= 0) throw new Error(`${this.path}: short write at ${offset + done}`);
      done += n;
    }
  }

  flush(): void {
    if (!this.readonly) fs.fsyncSync(this.fd);
  }

  /** Release the fd (the VM is done with the disk). Further calls throw. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
