// Two cascaded Intel 8259A PICs as wired in every PC: master at 0x20/0x21 (IRQ0–7), slave at
// 0xA0/0xA1 (IRQ8–15) on the master's IR2, and the PIIX edge/level control registers (ELCR)
// at 0x4D0/0x4D1. References: Intel 8259A datasheet (order no. 231468) — "Interrupt
// Sequence", "Initialization Command Words", "Operation Command Words", "Priority modes",
// "Edge and level triggered modes", "The Cascade Buffer/Comparator"; Intel 82371AB (PIIX4)
// datasheet §4.1.x ELCR1/ELCR2. What Linux 6.1 does with it: arch/x86/kernel/i8259.c
// (init_8259A: ICW1 0x11, ICW2 0x20/0x28, ICW3 4/2, ICW4 1; mask_and_ack_8259A: specific EOI
// 0x60+irq on the slave, then 0x62 on the master; OCW3 0x0A/0x0B to read IRR/ISR).
import { W1, type Region } from "./bus/region.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

/** One 8259A. The pair below wires two of them together. */
class Pic8259 implements Stateful {
  irr = 0; // interrupt request register
  isr = 0; // in-service register
  imr = 0; // interrupt mask register (OCW1)
  level = 0; // current input line levels
  elcr = 0; // 1 = level-triggered input (ELCR, or all eight with ICW1.LTIM)
  elcrMask: number; // ELCR bits that exist on this chip
  vectorBase = 0; // ICW2 & 0xf8
  lowest = 7; // IR with lowest priority (rotation); highest is (lowest + 1) & 7
  autoEoi = false; // ICW4.AEOI
  rotateOnAutoEoi = false; // OCW2 R=1 SL=0 EOI=0
  ltim = false; // ICW1.LTIM
  specialMask = false; // OCW3 SMM
  readIsr = false; // OCW3 RIS: command-port reads return ISR instead of IRR
  pollPending = false; // OCW3 P: next command-port read is a poll
  initStep = 0; // 0 = operational; 2/3/4 = expecting ICW2/3/4
  expectIcw4 = false;
  single = false; // ICW1.SNGL
  /** Snapshot fields (devices/state/): every register above; elcrMask is the chip's wiring. */
  readonly stateTable: StateTable = {
    irr: "u8", isr: "u8", imr: "u8", level: "u8", elcr: "u8", vectorBase: "u8", lowest: { upTo: 7 }, autoEoi: "bool",
    rotateOnAutoEoi: "bool", ltim: "bool", specialMask: "bool", readIsr: "bool", pollPending: "bool", initStep: { upTo: 4 },
    expectIcw4: "bool", single: "bool",
  };

  constructor(readonly name: string, elcrMask: number) {
    this.elcrMask = elcrMask;
  }

  /** Rank of IR `i` in the current rotation: 0 is the highest priority. */
  private rank(i: number): number {
    return (i - this.lowest - 1) & 7;
  }

  /** Highest-priority IR set in `bits`, or -1. */
  highest(bits: number): number {
    if (bits === 0) return -1;
    for (let r = 0; r < 8; r++) {
      const i = (this.lowest + 1 + r) & 7;
      if (bits & (1 << i)) return i;
    }
    return -1;
  }

  /**
   * The IR this chip would present on INTA now, or -1. Fully nested mode: a request is
   * served only if it outranks every in-service level. Special mask mode: levels in service
   * only block themselves (datasheet, "Special Mask Mode").
   */
  pending(): number {
    const req = this.irr & ~this.imr & 0xff;
    if (req === 0) return -1;
    const best = this.highest(req);
    if (this.specialMask) return this.highest(req & ~this.isr);
    const inService = this.highest(this.isr);
    if (inService >= 0 && this.rank(inService) <= this.rank(best)) return -1;
    return best;
  }

  /** Drive input IR `i`. Edge inputs latch IRR on a rising edge; level inputs follow the line. */
  setInput(i: number, high: boolean): void {
    const bit = 1 << i;
    const wasHigh = (this.level & bit) !== 0;
    if (high) {
      this.level |= bit;
      if (this.isLevel(i) || !wasHigh) this.irr |= bit;
    } else {
      this.level &= ~bit;
      // A level input that drops withdraws its request; a latched edge stays until INTA.
      if (this.isLevel(i)) this.irr &= ~bit;
    }
  }

  isLevel(i: number): boolean {
    return this.ltim || (this.elcr & (1 << i)) !== 0;
  }

  /** INTA on this chip for IR `i` (already chosen by pending()). */
  acknowledge(i: number): void {
    const bit = 1 << i;
    // Datasheet: IRR bit is reset on INTA; a level input still high re-asserts it after EOI.
    this.irr &= ~bit;
    if (this.isLevel(i) && (this.level & bit)) this.irr |= bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowest = i;
    } else {
      this.isr |= bit;
    }
  }

  private eoi(i: number, rotate: boolean): void {
    if (i < 0) return;
    this.isr &= ~(1 << i);
    if (rotate) this.lowest = i;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1: start initialization. Datasheet: edge sense reset, IMR cleared, IR7 lowest,
      // special mask mode off, status read = IRR.
      this.initStep = 2;
      this.expectIcw4 = (v & 0x01) !== 0;
      this.single = (v & 0x02) !== 0;
      this.ltim = (v & 0x08) !== 0;
      this.imr = 0;
      this.isr = 0;
      this.irr = this.ltim ? this.level : 0; // edge inputs need a fresh rising edge
      this.lowest = 7;
      this.specialMask = false;
      this.readIsr = false;
      this.pollPending = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      return;
    }
    if (v & 0x08) {
      // OCW3: ESMM/SMM (bits 6,5), P (bit 2), RR/RIS (bits 1,0).
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      if (v & 0x04) this.pollPending = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      return;
    }
    // OCW2: R, SL, EOI in bits 7..5; L2..L0 in bits 2..0.
    const level = v & 7;
    switch (v >> 5) {
      case 0b001: this.eoi(this.highest(this.isr), false); break; // non-specific EOI
      case 0b011: this.eoi(level, false); break; // specific EOI
      case 0b101: this.eoi(this.highest(this.isr), true); break; // rotate on non-specific EOI
      case 0b111: this.eoi(level, true); break; // rotate on specific EOI
      case 0b100: this.rotateOnAutoEoi = true; break;
      case 0b000: this.rotateOnAutoEoi = false; break;
      case 0b110: this.lowest = level; break; // set priority
      default: break; // 0b010: no operation
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.expectIcw4 ? 4 : 0) : 3;
        return;
      case 3: // ICW3: cascade wiring; ours is fixed (slave on IR2, slave id 2)
        this.initStep = this.expectIcw4 ? 4 : 0;
        return;
      case 4: // ICW4: bit 1 AEOI; µPM (bit 0) and SFNM/BUF ignored
        this.autoEoi = (v & 0x02) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = v & 0xff; // OCW1
    }
  }

  readCommand(): number {
    return this.readIsr ? this.isr : this.irr;
  }
}

export interface PicPairOptions {
  /** Called whenever the master's INTR output changes (the board stores it in RUN_INTR). */
  onIntr: (level: boolean) => void;
}

const CASCADE_IR = 2;

const PIC_REGISTERS = [
  { offset: 0, name: "ICW1/OCW2/OCW3|IRR/ISR/poll", access: "rw", ref: "8259A ICW1, OCW2, OCW3" },
  { offset: 1, name: "ICW2-4/OCW1|IMR", access: "rw", ref: "8259A ICW2-ICW4, OCW1" },
] as const;

export class PicPair implements Stateful {
  readonly master = new Pic8259("pic-master", 0xf8); // IRQ0-2 are always edge (PIIX ELCR1)
  readonly slave = new Pic8259("pic-slave", 0xde); // IRQ8 and IRQ13 are always edge (ELCR2)
  /** Snapshot fields: both chips and the INTR output they drive (the run page holds its copy). */
  readonly stateTable: StateTable = { master: "child", slave: "child", intr: "bool" };
  private intr = false;
  private readonly onIntr: (level: boolean) => void;
  /** Ports: 0x20/0x21, 0xA0/0xA1, 0x4D0/0x4D1. */
  readonly ports: readonly Region[];

  constructor(opts: PicPairOptions) {
    this.onIntr = opts.onIntr;
    const chipPorts = (pic: Pic8259, base: number): Region => ({
      name: pic.name, base, size: 2, widths: W1, registers: PIC_REGISTERS,
      read: (off) => this.readPort(pic, off),
      write: (off, _w, v) => { if (off === 0) pic.writeCommand(v); else pic.writeData(v); this.update(); },
    });
    this.ports = [
      chipPorts(this.master, 0x20),
      chipPorts(this.slave, 0xa0),
      {
        name: "pic-elcr", base: 0x4d0, size: 2, widths: W1,
        registers: [
          { offset: 0, name: "ELCR1", access: "rw", ref: "PIIX4 ELCR1 (IRQ0-7)" },
          { offset: 1, name: "ELCR2", access: "rw", ref: "PIIX4 ELCR2 (IRQ8-15)" },
        ],
        read: (off) => (off === 0 ? this.master.elcr : this.slave.elcr),
        write: (off, _w, v) => { this.setElcr(off === 0 ? this.master : this.slave, v); this.update(); },
      },
    ];
  }

  /** Drive ISA IRQ line `irq` (0–15). IRQ2 is the cascade and cannot be driven. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) {
      if (irq === CASCADE_IR) return;
      this.master.setInput(irq, level);
    } else {
      this.slave.setInput(irq - 8, level);
    }
    this.update();
  }

  /** Mark `irq` level-triggered (firmware does this for PCI INTx lines). */
  setLevelTriggered(irq: number, level = true): void {
    const pic = irq < 8 ? this.master : this.slave;
    const bit = 1 << (irq & 7);
    this.setElcr(pic, level ? pic.elcr | bit : pic.elcr & ~bit);
    this.update();
  }

  /** The master's INTR output. */
  get intrLevel(): boolean {
    return this.intr;
  }

  /**
   * The CPU's interrupt-acknowledge cycle: returns the vector and moves the request from IRR
   * to ISR. With nothing to deliver the 8259A answers with IR7's vector (spurious IRQ7, or
   * IRQ15 from the slave) and sets no ISR bit — Linux detects exactly that.
   */
  intack(): number {
    const m = this.master;
    const i = m.pending();
    let vector: number;
    if (i < 0) {
      vector = m.vectorBase | 7;
    } else if (i === CASCADE_IR && !m.single) {
      m.acknowledge(i);
      const s = this.slave;
      const j = s.pending();
      if (j < 0) {
        vector = s.vectorBase | 7; // spurious IRQ15: master's IR2 stays in service
      } else {
        s.acknowledge(j);
        vector = s.vectorBase | j;
      }
    } else {
      m.acknowledge(i);
      vector = m.vectorBase | i;
    }
    this.update();
    return vector;
  }

  private setElcr(pic: Pic8259, v: number): void {
    pic.elcr = v & pic.elcrMask;
    // Inputs now level-triggered follow their line; edge inputs keep whatever IRR latched.
    for (let i = 0; i < 8; i++) {
      const bit = 1 << i;
      if (pic.isLevel(i)) pic.irr = (pic.irr & ~bit) | (pic.level & bit);
    }
  }

  private readPort(pic: Pic8259, off: number): number {
    if (off === 1) return pic.imr;
    if (pic.pollPending) {
      // Poll (OCW3 P=1): the read is the acknowledge. Bit 7 = request present, bits 2..0 = IR.
      pic.pollPending = false;
      const i = pic.pending();
      if (i < 0) return 0;
      pic.acknowledge(i);
      this.update();
      return 0x80 | i;
    }
    return pic.readCommand();
  }

  /** Recompute the cascade input and INTR; tell the board if INTR changed. */
  private update(): void {
    // The slave's INT pin drives the master's IR2, which is edge-triggered on a PC; modelling
    // it as a level input keeps a second slave request alive across the master's EOI.
    const slaveInt = this.slave.pending() >= 0;
    const m = this.master;
    const bit = 1 << CASCADE_IR;
    if (slaveInt) { m.level |= bit; m.irr |= bit; } else { m.level &= ~bit; m.irr &= ~bit; }
    const intr = m.pending() >= 0;
    if (intr !== this.intr) {
      this.intr = intr;
      this.onIntr(intr);
    }
  }
}
