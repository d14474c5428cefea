// The parts of node:zlib the host's native paths use (Node ≥ 20.16 has them all), reached
// through process.getBuiltinModule rather than an import, so the page's bundle never asks for
// node:zlib: undefined in a browser (and in an older Node), where the portable code runs.
export interface NativeZlib {
  inflateRawSync(input: Uint8Array, options: { info: true; maxOutputLength: number }): { buffer: Uint8Array; engine: { bytesWritten: number } };
  crc32(data: Uint8Array): number;
}

export const nativeZlib = ((): NativeZlib | undefined => {
  const z = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:zlib") as NativeZlib | undefined;
  return typeof z?.inflateRawSync === "function" && typeof z.crc32 === "function" ? z : undefined;
})();
