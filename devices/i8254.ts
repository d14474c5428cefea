// Intel 8254 programmable interval timer (ports 0x40–0x43) and the PC's system control
// port B (0x61), which gates channel 2 and reads back its output. Reference: Intel 8254
// datasheet (order no. 231164): "Control Word Format", "Read-Back Command", "Counter Latch
// Command", "Mode Definitions" (modes 0–5), "Gate" table. Port 0x61: IBM PC/AT technical
// reference / PIIX4 datasheet "NMI Status and Control Register".
//
// Nothing here ticks. A channel remembers the PIT clock edge at which counting (re)started;
// its counter and OUT pin are functions of "edges counted since then", computed from the
// virtual clock on each access. So the values Linux's pit_calibrate_tsc / quick_pit_calibrate
// busy-wait on (arch/x86/kernel/tsc.c) follow the same clock as the TSC exactly, and the run
// loop only wakes the PIT at channel 0's next rising edge, which raises IRQ0.
import { W1, type Region } from "./bus/region.ts";
import type { Timed, VirtualClock } from "./clock.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

/** PIT input clock: 14.31818 MHz / 12. */
export const PIT_HZ = 1_193_182;
const NS = 1_000_000_000;

/** PIT clock edges in (0, ns]: floor(ns · PIT_HZ / 1e9), exact for integer ns < 2^53. */
export function pitTicksAt(ns: number): number {
  const q = Math.floor(ns / NS);
  const r = ns - q * NS; // < 1e9, so r · PIT_HZ < 2^53: exact
  return q * PIT_HZ + Math.floor((r * PIT_HZ) / NS);
}

/** The first integer ns at which pitTicksAt(ns) >= tick. */
export function nsAtPitTick(tick: number): number {
  const q = Math.floor(tick / PIT_HZ);
  const r = tick - q * PIT_HZ;
  return q * NS + Math.ceil((r * NS) / PIT_HZ);
}

function toBcd(v: number): number {
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) |
    ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}
function fromBcd(v: number): number {
  return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

/** Access modes (control word bits 5:4). */
const RW_LSB = 1, RW_MSB = 2, RW_LOHI = 3;

class Channel implements Stateful {
  mode = 0;
  rw = RW_LOHI;
  bcd = false;
  reload = 0; // count register as written (0 = 2^16, or 10^4 in BCD)
  gate: boolean;
  armed = false; // a count was written since the control word
  triggered = false; // modes 1/5: a gate rising edge started the count
  paused = false; // gate low in a mode where that stops counting
  startTick = 0; // PIT edge index from which edges are counted
  acc = 0; // edges counted before the current pause (modes 0/4)
  writeHigh = false; // LOHI write flip-flop: next byte is the MSB
  lsbWritten = 0;
  readHigh = false; // LOHI read flip-flop for live reads
  countLatched = false;
  latchValue = 0;
  latchHigh = false;
  statusLatched = false;
  statusValue = 0;
  nextEdge = Infinity; // channel 0: counted-edge index of the next OUT rising edge
  /** Snapshot fields (devices/state/): the whole channel; tick counts are f64 (they pass 2^32). */
  readonly stateTable: StateTable = {
    mode: { upTo: 7 }, rw: { upTo: 3 }, bcd: "bool", reload: "u32", gate: "bool", armed: "bool", triggered: "bool", paused: "bool",
    startTick: "f64", acc: "f64", writeHigh: "bool", lsbWritten: "u8", readHigh: "bool", countLatched: "bool",
    latchValue: "u32", latchHigh: "bool", statusLatched: "bool", statusValue: "u8", nextEdge: "f64",
  };

  constructor(gate: boolean) {
    this.gate = gate;
  }

  /** The count the counter runs from: 0 means the maximum. */
  get n(): number {
    return this.reload === 0 ? (this.bcd ? 10000 : 0x10000) : this.reload;
  }

  /** Edges counted since the count was loaded/triggered (0: not loaded into the CE yet). */
  counted(tick: number): number {
    if (!this.armed || ((this.mode === 1 || this.mode === 5) && !this.triggered)) return 0;
    return this.paused ? this.acc : this.acc + (tick - this.startTick);
  }

  /** Counting element value. The first counted edge loads N; each later edge decrements. */
  value(tick: number): number {
    const c = this.counted(tick), n = this.n;
    const mod = this.bcd ? 10000 : 0x10000;
    if (c === 0) return n % mod;
    switch (this.mode) {
      case 2:
        return n - ((c - 1) % n);
      case 3: {
        // Square wave: the CE counts down by two through each half period.
        const p = (c - 1) % n;
        const high = (n + 1) >> 1;
        const k = p < high ? p : p - high;
        return ((n & ~1) - 2 * k + mod) % mod;
      }
      default: // modes 0, 1, 4, 5 count through zero and wrap
        return (((n - (c - 1)) % mod) + mod) % mod;
    }
  }

  out(tick: number): boolean {
    const c = this.counted(tick), n = this.n;
    switch (this.mode) {
      case 0: return this.armed && c >= n + 1;
      case 1: return !(this.triggered && c >= 1 && c < n + 1);
      case 2: return !this.gate || c === 0 || (c - 1) % n !== n - 1;
      case 3: return !this.gate || c === 0 || (c - 1) % n < (n + 1) >> 1;
      case 4: return c !== n + 1;
      case 5: return !(this.triggered && c === n + 1);
      default: return true;
    }
  }

  /** Counted-edge index of the first OUT rising edge after count `c` (Infinity if none). */
  edgeAfter(c: number): number {
    if (!this.armed) return Infinity;
    const n = this.n;
    switch (this.mode) {
      case 0: case 1: return c < n + 1 ? n + 1 : Infinity;
      case 4: case 5: return c < n + 2 ? n + 2 : Infinity;
      case 2: case 3: return c < n + 1 ? n + 1 : n * (Math.floor((c - 1) / n) + 1) + 1;
      default: return Infinity;
    }
  }

  nullCount(tick: number): boolean {
    return !this.armed || this.counted(tick) === 0;
  }

  /** Restart counting at `tick` (count loaded on the next edge). */
  restart(tick: number): void {
    this.acc = 0;
    this.startTick = tick;
    this.paused = !this.gate && this.mode !== 1 && this.mode !== 5;
    this.nextEdge = this.edgeAfter(0);
  }
}

export interface PitOptions {
  clock: VirtualClock;
  /** Channel 0's OUT: pulsed (raise, then lower) on each rising edge. Wire to PIC IRQ0. */
  irq0: (level: boolean) => void;
}

export class Pit implements Timed, Stateful {
  readonly channels = [new Channel(true), new Channel(true), new Channel(false)];
  private readonly clock: VirtualClock;
  private readonly irq0: (level: boolean) => void;
  private portB = 0; // 0x61 bits 0–3 as written
  /** Snapshot fields: the three channels and port B. */
  readonly stateTable: StateTable = { channels: { children: 3 }, portB: "u8" };
  /** Ports 0x40–0x43 and 0x61. */
  readonly ports: readonly Region[];

  constructor(opts: PitOptions) {
    this.clock = opts.clock;
    this.irq0 = opts.irq0;
    this.ports = [
      {
        name: "pit", base: 0x40, size: 4, widths: W1,
        registers: [
          { offset: 0, name: "counter0", access: "rw", ref: "8254 counter 0 (IRQ0)" },
          { offset: 1, name: "counter1", access: "rw", ref: "8254 counter 1 (refresh)" },
          { offset: 2, name: "counter2", access: "rw", ref: "8254 counter 2 (speaker)" },
          { offset: 3, name: "control", access: "w", ref: "8254 control word / read-back" },
        ],
        read: (off) => (off === 3 ? 0xff : this.readCounter(off)), // 0x43 is write-only
        write: (off, _w, v) => (off === 3 ? this.writeControl(v) : this.writeCounter(off, v)),
      },
      {
        name: "sysctl-b", base: 0x61, size: 1, widths: W1,
        registers: [{ offset: 0, name: "portB", access: "rw", ref: "NMI status and control (port B)" }],
        read: () => this.readPortB(),
        write: (_o, _w, v) => this.writePortB(v),
      },
    ];
  }

  private tick(): number {
    return pitTicksAt(this.clock.nowNs());
  }

  // ---- Timed: channel 0 → IRQ0 ------------------------------------------------------------

  nextDeadlineNs(): number {
    const ch = this.channels[0]!;
    if (ch.nextEdge === Infinity || ch.paused) return Infinity;
    return nsAtPitTick(ch.startTick + ch.nextEdge - ch.acc);
  }

  advance(nowNs: number): void {
    const ch = this.channels[0]!;
    if (ch.nextEdge === Infinity || ch.paused) return;
    const c = ch.counted(pitTicksAt(nowNs));
    if (c < ch.nextEdge) return;
    // One pulse however many edges were missed: an edge-triggered IRR latches once anyway.
    this.irq0(true);
    this.irq0(false);
    ch.nextEdge = ch.edgeAfter(c);
  }

  // ---- ports 0x40–0x43 ---------------------------------------------------------------------

  private writeControl(v: number): void {
    const sc = v >> 6;
    if (sc === 3) return this.readBack(v);
    const ch = this.channels[sc]!;
    const rw = (v >> 4) & 3;
    if (rw === 0) return this.latchCount(ch); // counter latch command
    // A control word resets the channel: new mode, waits for a count, OUT to its initial level.
    ch.rw = rw;
    ch.mode = (v >> 1) & 7;
    if (ch.mode > 5) ch.mode -= 4; // 6, 7 are aliases of 2, 3
    ch.bcd = (v & 1) !== 0;
    ch.armed = false;
    ch.triggered = false;
    ch.paused = false;
    ch.writeHigh = false;
    ch.readHigh = false;
    ch.countLatched = false;
    ch.statusLatched = false;
    ch.nextEdge = Infinity;
  }

  private latchCount(ch: Channel): void {
    if (ch.countLatched) return; // a second latch before the first is read is ignored
    const v = ch.value(this.tick());
    ch.latchValue = ch.bcd ? toBcd(v) : v;
    ch.countLatched = true;
    ch.latchHigh = ch.rw === RW_MSB;
  }

  /** Read-back: bits 3..1 select counters 2..0; bit 5 = 0 latches counts, bit 4 = 0 status. */
  private readBack(v: number): void {
    const tick = this.tick();
    for (let i = 0; i < 3; i++) {
      if (!(v & (2 << i))) continue;
      const ch = this.channels[i]!;
      if (!(v & 0x20)) this.latchCount(ch);
      if (!(v & 0x10) && !ch.statusLatched) {
        ch.statusValue = (ch.out(tick) ? 0x80 : 0) | (ch.nullCount(tick) ? 0x40 : 0) |
          (ch.rw << 4) | (ch.mode << 1) | (ch.bcd ? 1 : 0);
        ch.statusLatched = true;
      }
    }
  }

  private writeCounter(i: number, v: number): void {
    const ch = this.channels[i]!;
    switch (ch.rw) {
      case RW_LSB: this.load(ch, v); break;
      case RW_MSB: this.load(ch, v << 8); break;
      default:
        if (!ch.writeHigh) {
          ch.lsbWritten = v;
          ch.writeHigh = true;
          // Mode 0: writing the first byte stops the count and drives OUT low.
          if (ch.mode === 0) { ch.armed = false; ch.nextEdge = Infinity; }
        } else {
          ch.writeHigh = false;
          this.load(ch, ch.lsbWritten | (v << 8));
        }
    }
  }

  /**
   * A complete count was written. Modes 0 and 4 restart with it; modes 2 and 3 start with it
   * (a running 2/3 channel also restarts here — the datasheet reloads at the end of the
   * period, which Linux never relies on: it writes a control word first); modes 1 and 5 wait
   * for a gate trigger.
   */
  private load(ch: Channel, raw: number): void {
    ch.reload = ch.bcd ? fromBcd(raw) : raw;
    ch.armed = true;
    ch.triggered = false;
    ch.restart(this.tick());
  }

  private readCounter(i: number): number {
    const ch = this.channels[i]!;
    if (ch.statusLatched) {
      ch.statusLatched = false;
      return ch.statusValue;
    }
    if (ch.countLatched) {
      const b = ch.latchHigh ? ch.latchValue >> 8 : ch.latchValue & 0xff;
      if (ch.rw === RW_LOHI && !ch.latchHigh) ch.latchHigh = true;
      else ch.countLatched = false;
      return b;
    }
    let v = ch.value(this.tick());
    if (ch.bcd) v = toBcd(v);
    switch (ch.rw) {
      case RW_LSB: return v & 0xff;
      case RW_MSB: return v >> 8;
      default:
        ch.readHigh = !ch.readHigh;
        return ch.readHigh ? v & 0xff : v >> 8;
    }
  }

  // ---- channel 2 gate and port 0x61 ----------------------------------------------------------

  /** Gate input of channel 2 (channels 0 and 1 are tied high on a PC). */
  private setGate2(level: boolean): void {
    const ch = this.channels[2]!;
    if (ch.gate === level) return;
    const tick = this.tick();
    if (level) {
      ch.gate = true;
      switch (ch.mode) {
        case 1: case 5: if (ch.armed) { ch.triggered = true; ch.restart(tick); } break;
        case 2: case 3: if (ch.armed) ch.restart(tick); break; // rising gate reloads
        default: if (ch.paused) { ch.paused = false; ch.startTick = tick; } // resume
      }
    } else {
      if (ch.mode === 0 || ch.mode === 4 || ch.mode === 2 || ch.mode === 3) {
        ch.acc = ch.counted(tick);
        ch.paused = true;
      }
      ch.gate = false;
    }
  }

  /** 0x61: bit 0 gate 2, bit 1 speaker data, 2–3 parity/IOCHK enables, 4 refresh, 5 OUT2. */
  private readPortB(): number {
    const now = this.clock.nowNs();
    // DRAM refresh request toggles every 15.085 µs (channel 1's classic count of 18).
    const refresh = Math.floor(now / 15085) & 1;
    const out2 = this.channels[2]!.out(pitTicksAt(now));
    return (this.portB & 0x0f) | (refresh << 4) | (out2 ? 0x20 : 0);
  }

  private writePortB(v: number): void {
    this.portB = v & 0x0f;
    this.setGate2((v & 1) !== 0);
  }

  /** Speaker output level: OUT2 AND speaker-data enable (for a future audio backend). */
  speakerOn(): boolean {
    return (this.portB & 2) !== 0 && this.channels[2]!.out(this.tick());
  }
}
