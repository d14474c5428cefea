// A device-specific configuration space (virtio 1.2 §4.1.4.6 / §4.2.2 "Config") declared once
// as a table of fields: the table gives the byte image its layout, the inspector its
// labels, and the spec references their home. The image is little-endian, as virtio 1.x
// defines it and as legacy x86 guests read it (guest-native = little-endian).
import type { Width } from "../bus/region.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export interface ConfigField {
  offset: number;
  width: 1 | 2 | 4 | 8;
  name: string;
  /** Spec section (and the feature bit that makes the field valid). */
  ref: string;
}

export class ConfigSpace implements Stateful {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;

  /** `size` covers areas no field names (virtio-input's 128-byte union); default: the fields' extent. */
  constructor(readonly fields: readonly ConfigField[], size?: number) {
    this.bytes = new Uint8Array(size ?? Math.max(0, ...fields.map((f) => f.offset + f.width)));
    this.dv = new DataView(this.bytes.buffer);
  }

  /** Snapshot fields (devices/state/): the bytes, whoever wrote them (device or driver). */
  get stateTable(): StateTable {
    return { bytes: { u8s: this.bytes.length } };
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Set field `name` (a u64 takes any safe integer). Unknown names throw: a programming error. */
  set(name: string, value: number): void {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new Error(`no config field ${name}`);
    switch (f.width) {
      case 1: this.dv.setUint8(f.offset, value); break;
      case 2: this.dv.setUint16(f.offset, value, true); break;
      case 4: this.dv.setUint32(f.offset, value >>> 0, true); break;
      case 8:
        this.dv.setUint32(f.offset, value % 0x1_0000_0000, true);
        this.dv.setUint32(f.offset + 4, Math.floor(value / 0x1_0000_0000), true);
        break;
    }
  }

  get(name: string): number {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new Error(`no config field ${name}`);
    if (f.width === 8) return this.dv.getUint32(f.offset, true) + this.dv.getUint32(f.offset + 4, true) * 0x1_0000_0000;
    return this.read(f.offset, f.width);
  }

  /**
   * Any aligned or unaligned access inside the space, little-endian — drivers read a u64 as two
   * u32 halves (legacy) or byte by byte. Bytes past the end read as 0 (the transport bounds it).
   */
  read(offset: number, width: Width): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (this.bytes[offset + i] ?? 0);
    return v >>> 0;
  }

  /**
   * A driver write of `width` bytes at `offset`, little-endian, kept only where `writable(at)`
   * says so: most of a config space is the device's, and a write there is ignored.
   */
  write(offset: number, width: Width, value: number, writable: (at: number) => boolean): void {
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      if (at < this.bytes.length && writable(at)) this.bytes[at] = Math.floor(value / 256 ** i) & 0xff;
    }
  }
}
