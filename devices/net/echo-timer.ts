// Round-trip times of ICMP echoes (RFC 792) across a link, measured on the host's wall clock:
// from the guest's echo request leaving its NIC to the matching reply arriving at it. The guest's
// own `ping` times include its network stack and read the guest clock, which in realtime mode
// catches up with host time in jumps after a halt (devices/clock.ts); these do neither.
// Only reads frames; anything that is not an Ethernet/IPv4/ICMP echo is ignored.

const ECHO_REQUEST = 8, ECHO_REPLY = 0;
/** Requests remembered while their reply is outstanding (oldest forgotten first). */
const OUTSTANDING = 64;

export class EchoTimer {
  private readonly sent = new Map<number, number>(); // id << 16 | seq → ms
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A frame the guest sent. */
  outgoing(frame: Uint8Array): void {
    const k = echoKey(frame, ECHO_REQUEST);
    if (k === null) return;
    if (this.sent.size >= OUTSTANDING) this.sent.delete(this.sent.keys().next().value!);
    this.sent.set(k, this.now());
  }

  /** A frame arriving for the guest. */
  incoming(frame: Uint8Array): void {
    const k = echoKey(frame, ECHO_REPLY);
    if (k === null) return;
    const t = this.sent.get(k);
    if (t === undefined) return;
    this.sent.delete(k);
    const ms = this.now() - t;
    this.count++;
    this.sum += ms;
    this.min = Math.min(this.min, ms);
    this.max = Math.max(this.max, ms);
  }

  /** Microseconds, rounded; empty until a reply has been timed. */
  stats(): Record<string, number> {
    if (this.count === 0) return {};
    const us = (ms: number) => Math.round(ms * 1000);
    return { echoRtts: this.count, echoRttMinUs: us(this.min), echoRttAvgUs: us(this.sum / this.count), echoRttMaxUs: us(this.max) };
  }
}

/** id << 16 | seq of an ICMP echo message of `type`, or null. */
function echoKey(f: Uint8Array, type: number): number | null {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 1) return null;
  const icmp = 14 + (f[14]! & 0xf) * 4;
  if (icmp + 8 > f.length || f[icmp] !== type) return null;
  return ((f[icmp + 4]! << 24) | (f[icmp + 5]! << 16) | (f[icmp + 6]! << 8) | f[icmp + 7]!) >>> 0;
}
