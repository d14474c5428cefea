// Name lookups for an outside whose relay resolves names itself (a Wisp CONNECT carries a
// hostname): the guest's DNS query for a name is answered with a stand-in address from
// 198.18.0.0/15 (RFC 2544's benchmarking range, which no public host uses), and a connection to
// that address is opened to the name. The page then needs no resolver, and the relay judges
// the name's real addresses itself (its refusal of private ones included).
//
// Bounded: the last MAX_NAMES names are remembered; addresses are handed out in turn over the
// whole range, so a forgotten one is not given to another name until 131,072 names later.
import { ipNumber, ipText } from "./nat.ts";

const BASE = ipNumber("198.18.0.0")!;
/** Addresses in 198.18.0.0/15. */
const SPAN = 1 << 17;
/** Names remembered at once. */
export const MAX_NAMES = 4096;

export class RelayNames {
  private readonly byName = new Map<string, number>();
  private readonly byAddr = new Map<number, string>();
  private next = 1; // 198.18.0.0 itself is not handed out

  /** The stand-in address of `name` (the same while it is remembered). */
  address(name: string): string {
    const key = name.toLowerCase();
    let a = this.byName.get(key);
    if (a === undefined) {
      if (this.byName.size >= MAX_NAMES) {
        const [oldest, addr] = this.byName.entries().next().value as [string, number];
        this.byName.delete(oldest);
        this.byAddr.delete(addr);
      }
      a = (BASE + this.next) >>> 0;
      this.next = (this.next + 1) % SPAN || 1;
      this.byName.set(key, a);
      this.byAddr.set(a, key);
    }
    return ipText(a);
  }

  /** The name a stand-in address was given for; null: not one (or forgotten). */
  name(ip: string): string | null {
    const a = ipNumber(ip);
    return a === null ? null : this.byAddr.get(a) ?? null;
  }
}
