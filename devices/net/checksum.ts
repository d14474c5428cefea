// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
// big-endian words, an odd last byte padded with zero. IPv4 headers, ICMP, UDP and TCP all use
// it, and virtio-net's checksum offload (VIRTIO_NET_HDR_F_NEEDS_CSUM) asks the device for it.

/** Ones' complement sum of `bytes` folded to 16 bits, starting from `initial` (not complemented). */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = bytes.length;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < n) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for `bytes` (which hold 0 in the checksum field), plus `initial`. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesSum(bytes, initial) & 0xffff;
}

/** The RFC 793/768 pseudo-header sum: source, destination, zero, protocol, length. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!) + ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!);
  sum += protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** onesSum over bytes[start, end) without a subarray (the NAT's per-frame path). */
export function onesSumRange(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The pseudo-header sum with addresses as 32-bit numbers. */
export function pseudoSum32(src: number, dst: number, protocol: number, length: number): number {
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
