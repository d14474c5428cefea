// National Semiconductor NS16550A UART, as the PC's COM ports. Reference: NS16550A datasheet
// (June 1995): Table II "Summary of Registers", §8.4 IIR (Table IV interrupt priorities),
// §8.5 FCR, §8.6 LCR/DLAB, §8.7 MCR (loopback), §8.8 LSR, §8.9 MSR, "FIFO Interrupt Mode
// Operation" (character timeout). What the guest's driver expects: Linux 6.1
// drivers/tty/serial/8250/8250_port.c — autoconfig() (IER existence test, the MCR loopback
// test expecting MSR & 0xf0 == 0x90 for LOOP|RTS|OUT2, IIR bits 7:6 == 11 for 16550A),
// serial8250_do_startup() (the UART_BUG_THRE probe: THRE must re-assert when IER.THRI is
// enabled again while the transmitter is idle; OUT2 gates the IRQ on PC boards) and
// serial8250_tx_chars() (up to 16 bytes per THRE interrupt).
//
// Transmission is instantaneous: a byte written to THR leaves at once (onTransmit, or the RX
// FIFO in loopback), so LSR.THRE/TEMT always read 1 and the THRE interrupt is pending again
// right after each write (the IRQ line stays up through a burst of writes, so Linux's ISR
// keeps feeding the FIFO in one interrupt until it clears IER.THRI). Reception goes through an
// unbounded input queue that tops up the 16-byte RX FIFO as the guest drains it, so nothing
// typed is lost while the guest is busy — not even across the FIFO clears of the driver's
// open (see clearRx).
import { W1, type Region } from "./bus/region.ts";
import type { Timed, VirtualClock } from "./clock.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

// Register offsets (DLAB = 0 unless noted), NS16550A Table II.
export const UART_REGS = [
  { offset: 0, name: "RBR/THR|DLL", access: "rw", ref: "NS16550A Table II; DLL when LCR.DLAB" },
  { offset: 1, name: "IER|DLM", access: "rw", ref: "NS16550A §8.10; DLM when LCR.DLAB" },
  { offset: 2, name: "IIR/FCR", access: "rw", ref: "NS16550A §8.4, §8.5" },
  { offset: 3, name: "LCR", access: "rw", ref: "NS16550A §8.6" },
  { offset: 4, name: "MCR", access: "rw", ref: "NS16550A §8.7" },
  { offset: 5, name: "LSR", access: "r", ref: "NS16550A §8.8" },
  { offset: 6, name: "MSR", access: "r", ref: "NS16550A §8.9" },
  { offset: 7, name: "SCR", access: "rw", ref: "NS16550A §8.11" },
] as const;

const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
const IIR_NONE = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06, IIR_CTI = 0x0c;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_ERRORS = 0x1e;
const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
const FIFO_SIZE = 16;
const RX_TRIGGER = [1, 4, 8, 14];
/** Bytes the input queue may feed without the IRQ line dropping (see refill()). */
const REFILL_BURST = 4096;
/** 1.8432 MHz crystal / 16: the baud rate at divisor 1. */
const BAUD_BASE = 115200;

export interface UartOptions {
  /** I/O base, e.g. 0x3F8 for COM1. */
  base: number;
  /** ISA IRQ number (informational: the board wires `setIrq` to it), e.g. 4. */
  irq: number;
  clock: VirtualClock;
  /** The UART's interrupt output as seen on the ISA bus (already gated by MCR.OUT2). */
  setIrq: (level: boolean) => void;
  /** A byte the guest transmitted. */
  onTransmit: (byte: number) => void;
  name?: string;
}

export class Uart16550 implements Timed, Stateful {
  readonly base: number;
  readonly irq: number;
  readonly ports: readonly Region[];
  private readonly clock: VirtualClock;
  private readonly setIrqLine: (level: boolean) => void;
  private readonly onTransmit: (byte: number) => void;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = LSR_THRE | LSR_TEMT;
  private scr = 0;
  private dll = 12; // 9600 baud until the driver sets it
  private dlm = 0;
  private fifoEnabled = false;
  private rxTrigger = 1;
  private thrPending = false; // THRE interrupt pending (cleared by IIR read or THR write)
  private msrDeltas = 0; // MSR bits 3:0
  private msrLines = MSR_CTS | MSR_DSR | MSR_DCD; // the modem lines of the attached "cable"
  private timeoutPending = false;
  private lastRxActivityNs = 0;
  private irqLevel = false;
  private burst = 0; // bytes moved into the FIFO since the IRQ line was last low
  private refillAtNs = Infinity; // a paused refill resumes here

  // RX FIFO (16 bytes) and the unbounded input queue behind it.
  private readonly rx = new Uint8Array(FIFO_SIZE);
  private readonly rxFromHost = new Uint8Array(FIFO_SIZE); // 1 = came from receive(), 0 = loopback
  private rxHead = 0;
  private rxCount = 0;
  private queue = new Uint8Array(256);
  private qHead = 0;
  private qLen = 0;

  /**
   * Snapshot fields (devices/state/): the registers, the RX FIFO and the host input queued
   * behind it (inputQueue, in order); times are guest ns (f64).
   */
  readonly stateTable: StateTable = {
    ier: "u8", lcr: "u8", mcr: "u8", lsr: "u8", scr: "u8", dll: "u8", dlm: "u8", fifoEnabled: "bool", rxTrigger: { upTo: FIFO_SIZE },
    thrPending: "bool", msrDeltas: "u8", msrLines: "u8", timeoutPending: "bool", lastRxActivityNs: "f64", irqLevel: "bool",
    burst: "u32", refillAtNs: "f64", rx: { u8s: FIFO_SIZE }, rxFromHost: { u8s: FIFO_SIZE }, rxHead: { upTo: FIFO_SIZE - 1 }, rxCount: { upTo: FIFO_SIZE },
    inputQueue: { blob: 1 << 24 }, lastMsr: "u8",
  };

  /** The host input not yet in the FIFO, oldest first (a snapshot field). */
  get inputQueue(): Uint8Array {
    const q = new Uint8Array(this.qLen);
    for (let i = 0; i < this.qLen; i++) q[i] = this.queue[(this.qHead + i) % this.queue.length]!;
    return q;
  }

  set inputQueue(bytes: Uint8Array) {
    this.queue = new Uint8Array(256);
    this.qHead = this.qLen = 0;
    if (bytes.length > this.queue.length) this.grow(bytes.length);
    this.queue.set(bytes);
    this.qLen = bytes.length;
  }

  constructor(opts: UartOptions) {
    this.base = opts.base;
    this.irq = opts.irq;
    this.clock = opts.clock;
    this.setIrqLine = opts.setIrq;
    this.onTransmit = opts.onTransmit;
    this.ports = [{
      name: opts.name ?? `uart@${opts.base.toString(16)}`,
      base: opts.base, size: 8, widths: W1, registers: UART_REGS,
      read: (off) => this.read(off),
      write: (off, _w, v) => this.write(off, v),
    }];
  }

  /** Bytes from the host (terminal). Queued; they enter the RX FIFO as it has room. */
  receive(bytes: Uint8Array): void {
    if (this.qLen + bytes.length > this.queue.length) this.grow(this.qLen + bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      this.queue[(this.qHead + this.qLen++) % this.queue.length] = bytes[i]!;
    }
    this.refill();
    this.update();
  }

  private grow(need: number): void {
    let cap = this.queue.length * 2;
    while (cap < need) cap *= 2;
    const q = new Uint8Array(cap);
    for (let i = 0; i < this.qLen; i++) q[i] = this.queue[(this.qHead + i) % this.queue.length]!;
    this.queue = q;
    this.qHead = 0;
  }

  /** Bytes waiting in the input queue and RX FIFO (the guest has not read them yet). */
  get pendingInput(): number {
    return this.qLen + this.rxCount;
  }

  // ---- Timed: the character timeout indication -------------------------------------------

  /**
   * The character timeout: 4 character times after the last RX activity while data waits in
   * the FIFO. Also a paused refill (see REFILL_BURST) resumes one character time later.
   */
  nextDeadlineNs(): number {
    let t = this.refillAtNs;
    if (this.fifoEnabled && this.rxCount > 0 && !this.timeoutPending) {
      t = Math.min(t, this.lastRxActivityNs + 4 * this.charTimeNs());
    }
    return t;
  }

  advance(nowNs: number): void {
    if (nowNs >= this.refillAtNs) {
      this.refillAtNs = Infinity;
      this.burst = 0;
      this.refill();
    }
    if (this.fifoEnabled && this.rxCount > 0 && !this.timeoutPending &&
        nowNs >= this.lastRxActivityNs + 4 * this.charTimeNs()) {
      this.timeoutPending = true;
    }
    this.update();
  }

  /** Time to shift one character at the programmed baud rate and frame format. */
  private charTimeNs(): number {
    const divisor = (this.dlm << 8) | this.dll || 1;
    const bits = 1 + 5 + (this.lcr & 3) + (this.lcr & 0x08 ? 1 : 0) + (this.lcr & 0x04 ? 2 : 1);
    return Math.ceil((bits * divisor * 1e9) / BAUD_BASE);
  }

  // ---- registers -------------------------------------------------------------------------

  private read(off: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (off) {
      case 0: return dlab ? this.dll : this.readRbr();
      case 1: return dlab ? this.dlm : this.ier;
      case 2: return this.readIir();
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: return this.readLsr();
      case 6: return this.readMsr();
      default: return this.scr;
    }
  }

  private write(off: number, v: number): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (off) {
      case 0: if (dlab) this.dll = v; else this.writeThr(v); break;
      case 1: if (dlab) this.dlm = v; else this.writeIer(v); break;
      case 2: this.writeFcr(v); break;
      case 3: this.lcr = v; break;
      case 4: this.writeMcr(v); break;
      case 5: case 6: break; // LSR/MSR writes: factory test only
      default: this.scr = v;
    }
    this.refill(); // leaving loopback or enabling the FIFO makes room for queued input
    this.update();
  }

  private readRbr(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
    this.rxCount--;
    this.timeoutPending = false;
    this.lastRxActivityNs = this.clock.nowNs();
    this.refill();
    this.update();
    return b;
  }

  private writeThr(v: number): void {
    if (this.mcr & MCR_LOOP) this.pushRx(v, 0);
    else this.onTransmit(v);
    // The shift register empties at once, so THRE becomes true again: a new THRE interrupt.
    this.thrPending = true;
  }

  private writeIer(v: number): void {
    const enabling = (v & IER_THRI) !== 0 && (this.ier & IER_THRI) === 0;
    this.ier = v & 0x0f;
    // Enabling ETBEI while THR is empty raises THRE (Linux's UART_BUG_THRE probe relies on it).
    if (enabling) this.thrPending = true;
  }

  private writeFcr(v: number): void {
    const enable = (v & 1) !== 0;
    // Changing the FIFO enable clears both FIFOs (§8.5).
    if (enable !== this.fifoEnabled) this.clearRx();
    this.fifoEnabled = enable;
    if (enable && v & 0x02) this.clearRx();
    if (enable) this.rxTrigger = RX_TRIGGER[v >> 6]!; // other bits program only with FCR0 set
  }

  private writeMcr(v: number): void {
    this.mcr = v & 0x1f;
    this.updateModemLines();
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THRI) this.thrPending = false; // reading IIR with THRE as source clears it
    this.update();
    return id | (this.fifoEnabled ? 0xc0 : 0);
  }

  private readLsr(): number {
    const v = this.lsr | (this.rxCount > 0 ? LSR_DR : 0);
    this.lsr &= ~LSR_ERRORS; // OE/PE/FE/BI clear on read
    this.update();
    return v;
  }

  private readMsr(): number {
    const v = this.msrNow() | this.msrDeltas;
    this.msrDeltas = 0;
    this.update();
    return v;
  }

  /** MSR 7:4. In loopback the inputs are wired to MCR: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. */
  private msrNow(): number {
    if (!(this.mcr & MCR_LOOP)) return this.msrLines;
    return (this.mcr & MCR_RTS ? MSR_CTS : 0) | (this.mcr & MCR_DTR ? MSR_DSR : 0) |
      (this.mcr & MCR_OUT1 ? MSR_RI : 0) | (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  private lastMsr = MSR_CTS | MSR_DSR | MSR_DCD;
  private updateModemLines(): void {
    const now = this.msrNow();
    const changed = now ^ this.lastMsr;
    // Deltas: DCTS, DDSR, TERI (RI falling edge), DDCD in bits 0..3.
    if (changed & MSR_CTS) this.msrDeltas |= 0x01;
    if (changed & MSR_DSR) this.msrDeltas |= 0x02;
    if (changed & MSR_RI && !(now & MSR_RI)) this.msrDeltas |= 0x04;
    if (changed & MSR_DCD) this.msrDeltas |= 0x08;
    this.lastMsr = now;
  }

  // ---- FIFO --------------------------------------------------------------------------------

  private pushRx(b: number, fromHost: number): void {
    const cap = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.rxCount >= cap) {
      this.lsr |= LSR_OE; // only reachable in loopback: the host queue never overruns
      return;
    }
    const i = (this.rxHead + this.rxCount) % FIFO_SIZE;
    this.rx[i] = b;
    this.rxFromHost[i] = fromHost;
    this.rxCount++;
    this.lastRxActivityNs = this.clock.nowNs();
  }

  /**
   * Top up the RX FIFO from the input queue. This happens at once, so a driver draining the
   * FIFO sees DR stay set until the queue is empty — but the IRQ line then never drops, and
   * an edge-triggered PIC sees no new edge if the driver gives up first (Linux's 8250 ISR
   * stops after PASS_LIMIT rounds). So after REFILL_BURST bytes without the line dropping,
   * the next top-up waits one character time, letting the line fall and rise again.
   */
  private refill(): void {
    if (this.mcr & MCR_LOOP) return; // loopback disconnects the serial input
    const cap = this.fifoEnabled ? FIFO_SIZE : 1;
    while (this.qLen > 0 && this.rxCount < cap) {
      if (this.burst >= REFILL_BURST) {
        if (this.refillAtNs === Infinity) this.refillAtNs = this.clock.nowNs() + this.charTimeNs();
        return;
      }
      this.burst++;
      this.pushRx(this.queue[this.qHead]!, 1);
      this.qHead = (this.qHead + 1) % this.queue.length;
      this.qLen--;
    }
  }

  /**
   * FCR "clear RX FIFO" (and FIFO enable changes). Loopback bytes are discarded as the
   * datasheet says. Host bytes not yet read go back to the front of the input queue instead:
   * Linux clears the FIFOs when it opens the port, and a byte typed before that must not be
   * lost. To the guest this looks like the same bytes arriving again right after the clear.
   */
  private clearRx(): void {
    let n = 0;
    for (let k = 0; k < this.rxCount; k++) n += this.rxFromHost[(this.rxHead + k) % FIFO_SIZE]!;
    if (n > 0) {
      if (this.qLen + n > this.queue.length) this.grow(this.qLen + n);
      const len = this.queue.length;
      this.qHead = (this.qHead - n + len) % len;
      this.qLen += n;
      let j = 0;
      for (let k = 0; k < this.rxCount; k++) {
        const i = (this.rxHead + k) % FIFO_SIZE;
        if (this.rxFromHost[i]) this.queue[(this.qHead + j++) % len] = this.rx[i]!;
      }
    }
    this.rxCount = 0;
    this.rxHead = 0;
    this.timeoutPending = false;
  }

  // ---- interrupts --------------------------------------------------------------------------

  /** Highest-priority pending source, NS16550A Table IV. */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLSI && this.lsr & LSR_ERRORS) return IIR_RLSI;
    if (ier & IER_RDI && this.rxCount > 0) {
      if (!this.fifoEnabled || this.rxCount >= this.rxTrigger) return IIR_RDI;
      if (this.timeoutPending) return IIR_CTI;
    }
    if (ier & IER_THRI && this.thrPending) return IIR_THRI;
    if (ier & IER_MSI && this.msrDeltas) return IIR_MSI;
    return IIR_NONE;
  }

  private update(): void {
    // On PC boards OUT2 enables the IRQ driver; in loopback the OUT2 pin is forced inactive.
    const level = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2 && this.interruptId() !== IIR_NONE;
    if (!level) this.burst = 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.setIrqLine(level);
    }
  }
}
