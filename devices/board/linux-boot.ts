// Direct Linux boot (Documentation/x86/boot.rst, "32-bit boot protocol"): no BIOS runs, so the
// board does what a boot loader does — parse the bzImage setup header, put the protected-mode
// kernel at 1 MiB and the initrd high, fill the zero page (boot_params) with the e820 map and
// the command line, and hand back the register state for the 32-bit entry.

/** Offsets in boot_params (arch/x86/include/uapi/asm/bootparam.h). */
const BP = {
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  altMemK: 0x1e0,
  e820Entries: 0x1e8,
  hdr: 0x1f1,
  e820Table: 0x2d0,
} as const;
const E820_MAX_ZEROPAGE = 128;

/** Offsets of setup_header fields in the bzImage file (and in boot_params). */
const HDR = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe, // 0xAA55
  jump: 0x200,
  header: 0x202, // "HdrS"
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  relocatableKernel: 0x234,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

const LOADED_HIGH = 0x01;
const MIN_PROTOCOL = 0x0202; // cmd_line_ptr exists from 2.02 on

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** Where the loader puts its own structures in low memory (all below the 0x9F000 EBDA line). */
export const BOOT_PARAMS_ADDR = 0x0001_0000;
export const CMDLINE_ADDR = 0x0002_0000;
const KERNEL_ADDR = 0x0010_0000;
/** Lowmem ends at 896 MiB on a non-PAE 32-bit kernel; the initrd must sit below it. */
const LOWMEM_TOP = 0x3800_0000;

export class BootError extends Error {}

export interface BzImageInfo {
  protocol: number; // e.g. 0x020f
  setupBytes: number; // real-mode part incl. boot sector
  kernel: Uint8Array; // the protected-mode part
  code32Start: number;
  /** Where the kernel runs after decompression (pref_address; 1 MiB before protocol 2.10). */
  runtimeStart: number;
  initSize: number; // memory the kernel needs from runtimeStart before it reads the e820 map
  cmdlineMax: number;
  initrdAddrMax: number;
  relocatable: boolean;
}

export function parseBzImage(image: Uint8Array): BzImageInfo {
  if (image.length < 0x1000) throw new BootError(`kernel image is only ${image.length} bytes: not a bzImage`);
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (v.getUint16(HDR.bootFlag, true) !== 0xaa55 || v.getUint32(HDR.header, true) !== 0x53726448) {
    throw new BootError("not a Linux bzImage (no boot sector signature or 'HdrS' setup header)");
  }
  const protocol = v.getUint16(HDR.version, true);
  const ver = `${protocol >> 8}.${(protocol & 0xff).toString().padStart(2, "0")}`;
  if (protocol < MIN_PROTOCOL) throw new BootError(`boot protocol ${ver} is too old: Vireo needs 2.02 or newer`);
  if (!(image[HDR.loadflags]! & LOADED_HIGH)) throw new BootError("zImage (loaded low) kernels are not supported: build a bzImage");
  const setupSects = image[HDR.setupSects] || 4;
  const setupBytes = (setupSects + 1) * 512;
  if (setupBytes >= image.length) throw new BootError("bzImage is truncated: no protected-mode kernel after the setup code");
  return {
    protocol,
    setupBytes,
    kernel: image.subarray(setupBytes),
    code32Start: v.getUint32(HDR.code32Start, true),
    runtimeStart: protocol >= 0x020a ? Number(v.getBigUint64(HDR.prefAddress, true)) : KERNEL_ADDR,
    initSize: protocol >= 0x020a ? v.getUint32(HDR.initSize, true) : 0,
    cmdlineMax: protocol >= 0x0206 ? v.getUint32(HDR.cmdlineSize, true) : 255,
    initrdAddrMax: protocol >= 0x0203 ? v.getUint32(HDR.initrdAddrMax, true) : 0x37ffffff,
    relocatable: protocol >= 0x0205 && image[HDR.relocatableKernel] !== 0,
  };
}

/** The kernel already decompressed on the host (host/kernel-payload.ts): vmlinux's segments. */
export interface DecompressedKernel {
  /** Physical address of the kernel's 32-bit entry (vmlinux startup_32). */
  entry: number;
  segments: { paddr: number; bytes: Uint8Array; zeroFill: number }[];
  /** The payload's compression, for the log ("lz4", "gzip"). */
  format: string;
}

export interface LinuxBootOptions {
  kernel: Uint8Array;
  /**
   * `kernel`'s payload, decompressed: its segments are placed where the bzImage's own
   * decompressor would put them, and the CPU enters the kernel directly. Without it the
   * decompressor runs in the guest.
   */
  decompressed?: DecompressedKernel;
  initrd?: Uint8Array;
  cmdline: string;
  /** Guest RAM, bytes. */
  ramBytes: number;
  /** Guest physical memory, phys 0 at index 0. */
  ram: Uint8Array;
}

export interface LinuxBootResult {
  /** 32-bit entry point; %esi must point at the zero page. */
  entry: number;
  esi: number;
  e820: E820Entry[];
  initrdAddr: number;
}

export function e820Map(ramBytes: number): E820Entry[] {
  // Conventional memory up to the EBDA, the legacy VGA/BIOS hole reserved, then the rest.
  return [
    { addr: 0, size: 0x9f000, type: E820_RAM },
    { addr: 0x9f000, size: 0x100000 - 0x9f000, type: E820_RESERVED },
    { addr: 0x100000, size: ramBytes - 0x100000, type: E820_RAM },
  ];
}

const mib = (n: number) => `${Math.ceil(n / (1 << 20))} MiB`;

// The kernel needs init_size bytes from where it runs once decompressed (pref_address for a
// kernel that is not relocatable); the initrd must stay clear of that and of the image.
function kernelEnd(info: BzImageInfo): number {
  return Math.max(KERNEL_ADDR + info.kernel.length, info.runtimeStart + info.initSize);
}

/**
 * Throw a BootError unless `ramBytes` holds this kernel, an initrd of `initrdSize` bytes and
 * 4 MiB to run in. Exported so the page can refuse a picked image before it starts a VM.
 */
export function checkRamFits(info: BzImageInfo, initrdSize: number, ramBytes: number): void {
  const need = kernelEnd(info) + initrdSize + (4 << 20);
  if (ramBytes < need) {
    throw new BootError(`too little RAM: ${mib(ramBytes)} given, this kernel${initrdSize ? " and initrd" : ""} need at least ${mib(need)}`);
  }
}

export function loadLinux(opts: LinuxBootOptions): LinuxBootResult {
  const info = parseBzImage(opts.kernel);
  const { ram, ramBytes } = opts;
  const initrdSize = opts.initrd?.length ?? 0;
  checkRamFits(info, initrdSize, ramBytes);
  const end = kernelEnd(info);

  const cmdBytes = new TextEncoder().encode(opts.cmdline);
  if (cmdBytes.length > info.cmdlineMax) {
    throw new BootError(`kernel command line is ${cmdBytes.length} bytes; this kernel accepts at most ${info.cmdlineMax}`);
  }

  ram.fill(0, 0, 0x100000);
  const d = opts.decompressed;
  if (d) {
    for (const seg of d.segments) {
      if (seg.paddr < info.runtimeStart || seg.paddr + seg.bytes.length + seg.zeroFill > info.runtimeStart + info.initSize) {
        throw new BootError(`decompressed kernel segment at 0x${seg.paddr.toString(16)} lies outside the kernel's init_size region`);
      }
      ram.set(seg.bytes, seg.paddr);
      ram.fill(0, seg.paddr + seg.bytes.length, seg.paddr + seg.bytes.length + seg.zeroFill);
    }
  } else {
    ram.set(info.kernel, KERNEL_ADDR);
  }

  let initrdAddr = 0;
  if (opts.initrd && initrdSize > 0) {
    const top = Math.min(ramBytes, LOWMEM_TOP, info.initrdAddrMax + 1);
    initrdAddr = Math.floor((top - initrdSize) / 4096) * 4096;
    if (initrdAddr < end) throw new BootError(`initrd of ${mib(initrdSize)} does not fit above the kernel in ${mib(ramBytes)} of RAM`);
    ram.set(opts.initrd, initrdAddr);
  }

  ram.set(cmdBytes, CMDLINE_ADDR);
  ram[CMDLINE_ADDR + cmdBytes.length] = 0;

  // Zero page: the setup header copied verbatim from the image (its length is given by the
  // jump at 0x200), then the loader's fields.
  const bp = new DataView(ram.buffer, ram.byteOffset + BOOT_PARAMS_ADDR, 4096);
  const hdrEnd = 0x202 + opts.kernel[HDR.jump + 1]!;
  ram.set(opts.kernel.subarray(HDR.setupSects, hdrEnd), BOOT_PARAMS_ADDR + BP.hdr);
  bp.setUint8(HDR.typeOfLoader, 0xff); // "undefined" boot loader id
  bp.setUint8(HDR.loadflags, bp.getUint8(HDR.loadflags) & ~0x80 & 0xff); // no real-mode heap
  bp.setUint32(HDR.cmdLinePtr, CMDLINE_ADDR, true);
  bp.setUint32(HDR.ramdiskImage, initrdAddr, true);
  bp.setUint32(HDR.ramdiskSize, initrdSize, true);
  bp.setUint32(BP.altMemK, (ramBytes - 0x100000) >>> 10, true);

  const e820 = e820Map(ramBytes);
  if (e820.length > E820_MAX_ZEROPAGE) throw new BootError("e820 map too long for the zero page");
  bp.setUint8(BP.e820Entries, e820.length);
  e820.forEach((e, i) => {
    const off = BP.e820Table + i * 20;
    bp.setBigUint64(off, BigInt(e.addr), true);
    bp.setBigUint64(off + 8, BigInt(e.size), true);
    bp.setUint32(off + 16, e.type, true);
  });

  return { entry: d ? d.entry : info.code32Start, esi: BOOT_PARAMS_ADDR, e820, initrdAddr };
}
