// Motorola MC146818A real-time clock and its CMOS RAM, at ports 0x70 (index; bit 7 is the
// PC's NMI mask, ignored here) and 0x71 (data), interrupting on IRQ8. Reference: MC146818A
// datasheet — "Address Map" (Figure 3), "Time, Calendar and Alarm Locations" (Table 2/3,
// BCD/binary and 12/24-hour formats), "Register A" (UIP, DV2–0, RS3–0 and Table 5 periodic
// rates), "Register B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), "Register C" (IRQF, PF, AF,
// UF; cleared by reading), "Register D" (VRT), "Update Cycle" (UIP is set 244 µs before an
// update, which lasts 1984 µs). PC CMOS layout (memory-size bytes 0x15–0x18, 0x30/0x31,
// 0x34/0x35, century 0x32): IBM PC/AT technical reference.
//
// What Linux 6.1 does with it (drivers/rtc/rtc-mc146818-lib.c, mc146818_avoid_UIP): read the
// seconds, check UIP is clear, read the rest, check UIP and the seconds again. So the time
// registers here change only at a second boundary, and UIP is set for the 2228 µs before it.
//
// Time comes from the virtual clock: the clock's epoch (host wall clock at power-on in
// realtime mode, DETERMINISTIC_EPOCH_MS in deterministic mode) plus guest time since.
import { W1, type Region } from "./bus/region.ts";
import type { Timed, VirtualClock } from "./clock.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

const NS = 1_000_000_000;
const UIP_WINDOW_NS = 244_000 + 1_984_000;

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const A_UIP = 0x80;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM_BINARY = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const CENTURY = 0x32;

/** Time fields in binary: seconds, minutes, hours (0–23), weekday (1 = Sunday), day, month, year. */
interface Fields { sec: number; min: number; hour: number; wday: number; mday: number; mon: number; year: number }

/** Days since 1970-01-01 → civil date (proleptic Gregorian). */
function civilFromDays(days: number, out: Fields): void {
  const z = days + 719468; // shift the era start to 0000-03-01
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  out.mday = doy - Math.floor((153 * mp + 2) / 5) + 1;
  out.mon = mp < 10 ? mp + 3 : mp - 9;
  out.year = yoe + era * 400 + (out.mon <= 2 ? 1 : 0);
  out.wday = ((days % 7) + 7 + 4) % 7 + 1; // 1970-01-01 was a Thursday; 1 = Sunday
}

/** Civil date → days since 1970-01-01. */
function daysFromCivil(year: number, mon: number, mday: number): number {
  const y = mon <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = mon > 2 ? mon - 3 : mon + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + mday - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const toBcd = (v: number): number => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number): number => (v >> 4) * 10 + (v & 15);

/** A Fields record's snapshot table. */
const RTC_FIELDS: StateTable = { sec: "u8", min: "u8", hour: "u8", wday: "u8", mday: "u8", mon: "u8", year: "u16" };

export interface CmosOptions {
  clock: VirtualClock;
  /** IRQ8 output (IRQF); the board wires it to PIC IRQ8. */
  setIrq: (level: boolean) => void;
}

export class Cmos implements Timed, Stateful {
  readonly ram = new Uint8Array(128); // 0x0e–0x7f: battery-backed RAM (0x00–0x0d are clock)
  readonly ports: readonly Region[];
  private readonly clock: VirtualClock;
  private readonly setIrqLine: (level: boolean) => void;
  private index = 0;
  private regA = 0x26; // DV = 010 (32.768 kHz, running), RS = 0110 (1024 Hz)
  private regB = B_24H; // 24-hour, BCD
  private regC = 0;
  private irqLevel = false;
  private baseSec: number; // Unix seconds shown at guest time baseNs
  private baseNs = 0; // a second boundary of the RTC
  private readonly held: Fields = { sec: 0, min: 0, hour: 0, wday: 1, mday: 1, mon: 1, year: 1970 };
  private readonly scratch: Fields = { sec: 0, min: 0, hour: 0, wday: 1, mday: 1, mon: 1, year: 1970 };
  private lastFlagsNs = 0;

  /** Snapshot fields (devices/state/): registers, RAM, and the RTC's time base (guest ns, f64). */
  readonly stateTable: StateTable = {
    ram: { u8s: 128 }, index: { upTo: 127 }, regA: "u8", regB: "u8", regC: "u8", irqLevel: "bool", baseSec: "f64", baseNs: "f64",
    held: { record: RTC_FIELDS }, scratch: { record: RTC_FIELDS }, lastFlagsNs: "f64",
  };

  constructor(opts: CmosOptions) {
    this.clock = opts.clock;
    this.setIrqLine = opts.setIrq;
    this.baseSec = Math.floor(opts.clock.epochMs / 1000);
    this.ram[REG_D] = 0x80; // VRT: the battery is fine
    this.ports = [{
      name: "cmos", base: 0x70, size: 2, widths: W1,
      registers: [
        { offset: 0, name: "index", access: "w", ref: "MC146818A address; bit 7 = PC NMI mask" },
        { offset: 1, name: "data", access: "rw", ref: "MC146818A registers 0x00-0x0d, RAM 0x0e-0x7f" },
      ],
      read: (off) => (off === 0 ? 0xff : this.readData()), // 0x70 is write-only on a PC
      write: (off, _w, v) => { if (off === 0) this.index = v & 0x7f; else this.writeData(v); },
    }];
  }

  /** Set a CMOS RAM byte (board setup). */
  setByte(index: number, value: number): void {
    this.ram[index & 0x7f] = value;
  }

  /** Fill the PC memory-size bytes for `ramBytes` of RAM, and the AT checksum. */
  setMemorySize(ramBytes: number): void {
    const extKb = Math.min(0xffff, Math.max(0, Math.floor((ramBytes - 0x10_0000) / 1024)));
    const above16 = Math.min(0xffff, Math.max(0, Math.floor((ramBytes - 0x100_0000) / 0x1_0000)));
    const put16 = (i: number, v: number) => { this.ram[i] = v & 0xff; this.ram[i + 1] = v >> 8; };
    put16(0x15, 640); // base memory, KiB
    put16(0x17, extKb); // extended memory above 1 MiB, KiB
    put16(0x30, extKb); // same, as POST found it
    put16(0x34, above16); // memory above 16 MiB in 64 KiB blocks
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.ram[i]!;
    put16(0x2e, ((sum & 0xff) << 8) | (sum >> 8)); // big-endian checksum at 0x2e/0x2f
  }

  // ---- Timed ---------------------------------------------------------------------------------

  /** The first periodic or update boundary after the flags were last brought up to date. */
  nextDeadlineNs(): number {
    if (!(this.regB & (B_PIE | B_AIE | B_UIE)) || !this.dividerRunning()) return Infinity;
    const last = this.lastFlagsNs;
    let t = Infinity;
    if (this.regB & B_PIE) {
      const p = this.periodNs();
      if (p > 0) t = (Math.floor(last / p) + 1) * p;
    }
    if (this.regB & (B_AIE | B_UIE) && !(this.regB & B_SET)) {
      t = Math.min(t, this.baseNs + (Math.floor((last - this.baseNs) / NS) + 1) * NS);
    }
    return Math.ceil(t);
  }

  advance(nowNs: number): void {
    this.refreshFlags(nowNs);
  }

  // ---- time ----------------------------------------------------------------------------------

  private dividerRunning(): boolean {
    return (this.regA & 0x70) === 0x20;
  }

  /** Periodic interrupt period from RS3–0 (Table 5, 32.768 kHz time base); 0 = off. */
  private periodNs(): number {
    const rs = this.regA & 0x0f;
    if (rs === 0) return 0;
    const hz = rs <= 2 ? 256 >> (rs - 1) : 32768 >> (rs - 1);
    return NS / hz;
  }

  /** Unix seconds the clock shows at `now`. */
  private secondsAt(now: number): number {
    return this.baseSec + Math.floor((now - this.baseNs) / NS);
  }

  private frozen(): boolean {
    return (this.regB & B_SET) !== 0 || !this.dividerRunning();
  }

  /** The time fields shown at `now`: held while SET or the divider is stopped. */
  private fieldsAt(now: number, out: Fields): Fields {
    if (this.frozen()) {
      Object.assign(out, this.held);
      return out;
    }
    const s = this.secondsAt(now);
    const days = Math.floor(s / 86400);
    const rem = s - days * 86400;
    out.hour = Math.floor(rem / 3600);
    out.min = Math.floor((rem % 3600) / 60);
    out.sec = rem % 60;
    civilFromDays(days, out);
    return out;
  }

  private encode(v: number): number {
    return this.regB & B_DM_BINARY ? v : toBcd(v);
  }
  private decode(v: number): number {
    return this.regB & B_DM_BINARY ? v : fromBcd(v);
  }
  private encodeHour(h: number): number {
    if (this.regB & B_24H) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }
  private decodeHour(v: number): number {
    if (this.regB & B_24H) return this.decode(v & 0x7f);
    const h = this.decode(v & 0x7f) % 12;
    return v & 0x80 ? h + 12 : h;
  }

  private readData(): number {
    const i = this.index;
    const now = this.clock.nowNs();
    if (i <= 9 || i === CENTURY) {
      const f = this.fieldsAt(now, this.scratch);
      switch (i) {
        case 0: return this.encode(f.sec);
        case 2: return this.encode(f.min);
        case 4: return this.encodeHour(f.hour);
        case 6: return this.encode(f.wday);
        case 7: return this.encode(f.mday);
        case 8: return this.encode(f.mon);
        case 9: return this.encode(f.year % 100);
        case CENTURY: return toBcd(Math.floor(f.year / 100)); // IBM convention: always BCD
        default: return this.ram[i]!; // alarm registers 1, 3, 5
      }
    }
    switch (i) {
      case REG_A: return this.regA | (this.uip(now) ? A_UIP : 0);
      case REG_B: return this.regB;
      case REG_C: {
        this.refreshFlags(now);
        const v = this.regC;
        this.regC = 0;
        this.updateIrq();
        return v;
      }
      default: return this.ram[i]!;
    }
  }

  private uip(now: number): boolean {
    if (this.regB & B_SET || !this.dividerRunning()) return false;
    const phase = (((now - this.baseNs) % NS) + NS) % NS;
    return phase >= NS - UIP_WINDOW_NS;
  }

  private writeData(v: number): void {
    const i = this.index;
    const now = this.clock.nowNs();
    if ((i <= 9 && i !== 1 && i !== 3 && i !== 5) || i === CENTURY) return this.writeTime(i, v, now);
    switch (i) {
      case REG_A: {
        const wasRunning = this.dividerRunning();
        if (wasRunning && (v & 0x70) !== 0x20) this.hold(now); // freeze before the divider stops
        this.regA = v & 0x7f;
        // Leaving divider reset starts the first update one second later (datasheet).
        if (!wasRunning && this.dividerRunning()) this.restartAt(now);
        break;
      }
      case REG_B: {
        const setBefore = (this.regB & B_SET) !== 0;
        if (!setBefore && v & B_SET) this.hold(now);
        this.regB = v & B_SET ? v & ~B_UIE : v; // SET clears UIE (datasheet, Register B)
        if (setBefore && !(v & B_SET)) this.restartAt(now);
        this.updateIrq();
        break;
      }
      case REG_C: case REG_D: break; // read-only
      default: this.ram[i] = v;
    }
  }

  /** Freeze the running time into `held` (SET is being set, or the divider stopped). */
  private hold(now: number): void {
    if (!this.frozen()) this.fieldsAt(now, this.held);
  }

  /** Resume counting from `held`, the next update one second from now. */
  private restartAt(now: number): void {
    const h = this.held;
    this.baseSec = daysFromCivil(h.year, h.mon, h.mday) * 86400 + h.hour * 3600 + h.min * 60 + h.sec;
    this.baseNs = now;
    // Updates before the new base are not "since the last check": no spurious UF.
    this.lastFlagsNs = Math.max(this.lastFlagsNs, now);
  }

  private writeTime(i: number, v: number, now: number): void {
    const frozen = this.frozen();
    const f = this.held;
    if (!frozen) this.fieldsAt(now, f);
    switch (i) {
      case 0: f.sec = this.decode(v & 0x7f); break;
      case 2: f.min = this.decode(v); break;
      case 4: f.hour = this.decodeHour(v); break;
      case 6: f.wday = this.decode(v); break;
      case 7: f.mday = this.decode(v); break;
      case 8: f.mon = this.decode(v); break;
      case 9: f.year = Math.floor(f.year / 100) * 100 + this.decode(v); break;
      case CENTURY: f.year = fromBcd(v) * 100 + (f.year % 100); break;
    }
    if (!frozen) {
      // Writing while running keeps the update phase; the new value counts on from here.
      const phase = (((now - this.baseNs) % NS) + NS) % NS;
      this.restartAt(now - phase);
    }
  }

  // ---- flags and IRQ8 ----------------------------------------------------------------------

  /** Set PF/UF/AF for periods and updates that happened since the last check. */
  private refreshFlags(now: number): void {
    const last = this.lastFlagsNs;
    if (now <= last) return;
    const p = this.periodNs();
    if (p > 0 && this.dividerRunning() && Math.floor(now / p) > Math.floor(last / p)) this.regC |= C_PF;
    if (!(this.regB & B_SET) && this.dividerRunning() &&
        Math.floor((now - this.baseNs) / NS) > Math.floor((last - this.baseNs) / NS)) {
      this.regC |= C_UF;
      if (this.alarmMatches(now)) this.regC |= C_AF;
    }
    this.lastFlagsNs = now;
    this.updateIrq();
  }

  /** Alarm bytes with the top two bits set are "don't care" (datasheet, alarm section). */
  private alarmMatches(now: number): boolean {
    const f = this.fieldsAt(now, this.scratch);
    const match = (alarm: number, value: number) => (alarm & 0xc0) === 0xc0 || alarm === value;
    return match(this.ram[1]!, this.encode(f.sec)) && match(this.ram[3]!, this.encode(f.min)) &&
      match(this.ram[5]!, this.encodeHour(f.hour));
  }

  private updateIrq(): void {
    const b = this.regB;
    const c = this.regC;
    const irqf = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE);
    if (irqf) this.regC |= C_IRQF;
    else this.regC &= ~C_IRQF;
    const level = !!irqf;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.setIrqLine(level);
    }
  }
}
