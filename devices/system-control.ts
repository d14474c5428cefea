// Small PC motherboard ports that only need to exist:
//  - SystemControl: 0x92, system control port A ("fast A20 and reset", PS/2 / PIIX4 datasheet
//    "Port 92"): bit 0 written 1 pulses the CPU reset line, bit 1 gates A20; reads return the
//    last write with bit 0 clear (the reset pulse is over).
//  - PostPorts: 0x80, the POST code port — firmware and Linux write it (outb_p's I/O delay,
//    the 8250 autoconfig's "bus float" guard); the last value is kept for the inspector — and
//    0xED, the other I/O-delay port (io_delay=0xed), whose writes vanish. Both read like an
//    empty bus. Separate from SystemControl so a board can leave them out or supply its own.
// Port 0x61 (system control port B) lives with the PIT (i8254.ts): it is the PIT's gate.
import { W1, allOnes, type Region } from "./bus/region.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

export interface SystemControlOptions {
  requestReset: () => void;
  onA20?: (enabled: boolean) => void;
}

export class SystemControl implements Stateful {
  readonly ports: readonly Region[];
  private portA = 0x02; // A20 enabled
  private readonly requestReset: () => void;
  private readonly onA20: (enabled: boolean) => void;

  /** Snapshot fields (devices/state/). */
  readonly stateTable: StateTable = { portA: "u8" };

  constructor(opts: SystemControlOptions) {
    this.requestReset = opts.requestReset;
    this.onA20 = opts.onA20 ?? (() => {});
    this.ports = [
      {
        name: "sysctl-a", base: 0x92, size: 1, widths: W1,
        registers: [{ offset: 0, name: "portA", access: "rw", ref: "PIIX4 Port 92" }],
        read: () => this.portA,
        write: (_o, _w, v) => this.writeA(v),
      },
    ];
  }

  get a20(): boolean {
    return (this.portA & 2) !== 0;
  }

  private writeA(v: number): void {
    const a20Before = this.a20;
    this.portA = v & 0xfe;
    if (this.a20 !== a20Before) this.onA20(this.a20);
    if (v & 1) this.requestReset();
  }
}

export class PostPorts {
  /** Last value written to port 0x80. */
  lastPostCode = 0;
  readonly ports: readonly Region[] = [
    { name: "post", base: 0x80, size: 1, widths: W1, read: (_o, w) => allOnes(w), write: (_o, _w, v) => { this.lastPostCode = v; } },
    { name: "io-delay", base: 0xed, size: 1, widths: W1, read: (_o, w) => allOnes(w), write: () => {} },
  ];
}
