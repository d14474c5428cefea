// Just enough of the PS/2 keyboard controller (Intel 8042 family, as on IBM PC/AT): the data
// port 0x60, the status/command port 0x64, the controller commands firmware and `reboot`
// use, and the output port's reset and A20 lines. The guest kernel has no i8042/serio driver
// (CONFIG_SERIO is off); Linux's reboot path (arch/x86/kernel/reboot.c, BOOT_KBD) waits for
// the input buffer to be empty and writes 0xFE to 0x64 to pulse the CPU reset line.
// Reference: IBM PC/AT Technical Reference, "Keyboard Controller" (status register bits,
// command list 0x20/0x60/0xA7–0xAB/0xAD/0xAE/0xC0/0xD0/0xD1/0xF0–0xFF).
import { W1, type Region } from "./bus/region.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

const ST_OBF = 0x01, ST_SYS = 0x04, ST_CMD = 0x08, ST_UNLOCKED = 0x10;

export interface I8042Options {
  /** The CPU reset line was pulsed (command 0xFE, or output port bit 0 cleared). */
  requestReset: () => void;
  /** The A20 gate changed (output port bit 1). Optional: the core may not model A20. */
  onA20?: (enabled: boolean) => void;
  /** IRQ1, raised while a byte waits in the output buffer and the command byte enables it. */
  setIrq?: (level: boolean) => void;
}

export class I8042 implements Stateful {
  readonly ports: readonly Region[];
  private readonly requestReset: () => void;
  private readonly onA20: (enabled: boolean) => void;
  private readonly setIrq: (level: boolean) => void;
  private status = ST_SYS | ST_UNLOCKED; // system flag: POST passed (we are the firmware)
  private out = 0; // output buffer
  private commandByte = 0x45; // IRQ1 enable, system flag, translate
  private outputPort = 0x03; // bit 0 reset deasserted, bit 1 A20 enabled
  private pending = 0; // controller command waiting for its data byte (0x60, 0xD1), or 0
  private irq = false;

  /** Snapshot fields (devices/state/). */
  readonly stateTable: StateTable = { status: "u8", out: "u8", commandByte: "u8", outputPort: "u8", pending: "u8", irq: "bool" };

  constructor(opts: I8042Options) {
    this.requestReset = opts.requestReset;
    this.onA20 = opts.onA20 ?? (() => {});
    this.setIrq = opts.setIrq ?? (() => {});
    this.ports = [
      { name: "i8042-data", base: 0x60, size: 1, widths: W1, read: () => this.readData(), write: (_o, _w, v) => this.writeData(v) },
      { name: "i8042-cmd", base: 0x64, size: 1, widths: W1, read: () => this.status, write: (_o, _w, v) => this.command(v) },
    ];
  }

  get a20(): boolean {
    return (this.outputPort & 2) !== 0;
  }

  private reply(v: number): void {
    this.out = v;
    this.status |= ST_OBF;
    this.updateIrq();
  }

  private readData(): number {
    this.status &= ~ST_OBF;
    this.updateIrq();
    return this.out;
  }

  private command(v: number): void {
    this.status |= ST_CMD;
    this.pending = 0;
    switch (v) {
      case 0x20: this.reply(this.commandByte); break; // read command byte
      case 0x60: case 0xd1: this.pending = v; break; // write command byte / output port
      case 0xa7: this.commandByte |= 0x20; break; // disable aux
      case 0xa8: this.commandByte &= ~0x20; break; // enable aux
      case 0xa9: this.reply(0x00); break; // aux interface test: OK
      case 0xaa: this.status |= ST_SYS; this.reply(0x55); break; // self-test passed
      case 0xab: this.reply(0x00); break; // keyboard interface test: OK
      case 0xad: this.commandByte |= 0x10; break; // disable keyboard
      case 0xae: this.commandByte &= ~0x10; break; // enable keyboard
      case 0xc0: this.reply(0xff); break; // input port
      case 0xd0: this.reply(this.outputPort); break; // read output port
      case 0xdd: this.setOutputPort(this.outputPort & ~2); break; // A20 off (common extension)
      case 0xdf: this.setOutputPort(this.outputPort | 2); break; // A20 on
      default:
        // 0xF0–0xFF pulse output-port bits 3..0 low for 6 µs; bit 0 is the CPU reset line.
        if ((v & 0xf0) === 0xf0 && (v & 1) === 0) this.requestReset();
    }
  }

  private writeData(v: number): void {
    this.status &= ~ST_CMD;
    const cmd = this.pending;
    this.pending = 0;
    if (cmd === 0x60) {
      this.commandByte = v;
      this.status = (this.status & ~ST_SYS) | (v & ST_SYS);
      this.updateIrq();
    } else if (cmd === 0xd1) {
      this.setOutputPort(v);
    } else {
      // A byte for the keyboard itself: acknowledge it (no keyboard behind it to do more).
      this.reply(0xfa);
    }
  }

  private setOutputPort(v: number): void {
    const a20Before = this.a20;
    this.outputPort = v | 0x01;
    if (this.a20 !== a20Before) this.onA20(this.a20);
    if ((v & 1) === 0) this.requestReset(); // driving the reset line low resets the CPU
  }

  private updateIrq(): void {
    const level = (this.status & ST_OBF) !== 0 && (this.commandByte & 1) !== 0;
    if (level !== this.irq) {
      this.irq = level;
      this.setIrq(level);
    }
  }
}
