// The ACPI fixed hardware a PC's chipset has in its power-management I/O space (ACPI 6.5 §4.8):
// the PM1a event block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT) and the power
// management timer (PM_TMR), at the ports the FADT gives (board/acpi-tables.ts).
//
// The PM timer is why it is here: a free-running 24-bit counter at 3.579545 MHz that every PC
// since the PIIX4 has, and that Linux uses as its clocksource watchdog (drivers/clocksource/
// acpi_pm.c). It counts the board's one virtual clock, the one the TSC counts, so the kernel's
// watchdog always finds the two in step: without it the only watchdog was the PIT, whose counter
// means nothing once the kernel programs it for one-shot interrupts, and the TSC was declared
// unstable a few seconds into every boot without `tsc=reliable`.
//
// The system is always in ACPI mode (the FADT's SMI_CMD is 0, so SCI_EN reads 1 and nothing
// switches it), and no fixed event is ever raised: no power button, no sleep button, no RTC
// alarm wake, and no timer-carry SCI (TMR_STS stays 0; Linux enables none of them). SLP_EN is
// accepted and does nothing: the DSDT defines no sleep state, so Linux never writes it, and a
// kernel powers the board off by halting with interrupts off, as it did before there were tables.
import { W1, W2, W4, type Region } from "./bus/region.ts";
import type { VirtualClock } from "./clock.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

/** PM_TMR's frequency (ACPI 6.5 §4.8.3.3): 3.579545 MHz, the NTSC colour-burst crystal. */
export const PM_TIMER_HZ = 3_579_545;
/** 24 bits: the FADT's TMR_VAL_EXT flag is clear (a PIIX4's timer). */
export const PM_TIMER_MASK = 0xff_ffff;

/** The ports of the three blocks (the FADT's PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK): one I/O window. */
export const ACPI_PM_BASE = 0x600;
export const PM1_EVT_OFFSET = 0, PM1_EVT_LEN = 4;
export const PM1_CNT_OFFSET = 4, PM1_CNT_LEN = 2;
export const PM_TMR_OFFSET = 8, PM_TMR_LEN = 4;
const SIZE = PM_TMR_OFFSET + PM_TMR_LEN;

/** PM1_CNT.SCI_EN (bit 0): read-only 1 here, the hardware is in ACPI mode. */
const SCI_EN = 1 << 0;
/** PM1_CNT bits software may write: BM_RLD (1), GBL_RLS (2, write-only), SLP_TYP (12:10); SLP_EN (13) is write-only. */
const CNT_WRITABLE = (1 << 1) | (7 << 10);
/** PM1_EN bits that exist: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS (ACPI 6.5 Table 4.15). */
const EN_BITS = (1 << 0) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 14);

/** PM_TMR's count at guest time `ns`, in exact integer arithmetic (ns × 3579545 overflows 2^53 after 2.5 s). */
export function pmTimerAt(ns: number): number {
  const whole = Math.floor(ns / 1e9), frac = Math.floor(ns - whole * 1e9);
  return ((whole % 0x100_0000) * PM_TIMER_HZ + Math.floor((frac * PM_TIMER_HZ) / 1e9)) & PM_TIMER_MASK;
}

export class AcpiPm implements Stateful {
  readonly ports: readonly Region[];
  /** PM1_EN and PM1_CNT as written (PM1_STS has no bit ever set). */
  private enable = 0;
  private control = SCI_EN;

  readonly stateTable: StateTable = { enable: "u16", control: "u16" };

  constructor(private readonly clock: VirtualClock, base = ACPI_PM_BASE) {
    this.ports = [{
      name: "acpi-pm", base, size: SIZE, widths: W1 | W2 | W4,
      registers: [
        { offset: PM1_EVT_OFFSET, name: "PM1_STS", access: "rw", ref: "ACPI 6.5 §4.8.3.1.1" },
        { offset: PM1_EVT_OFFSET + 2, name: "PM1_EN", access: "rw", ref: "ACPI 6.5 §4.8.3.1.2" },
        { offset: PM1_CNT_OFFSET, name: "PM1_CNT", access: "rw", ref: "ACPI 6.5 §4.8.3.2.1" },
        { offset: PM_TMR_OFFSET, name: "PM_TMR", access: "r", ref: "ACPI 6.5 §4.8.3.3" },
      ],
      read: (off, width) => this.readBytes(off, width),
      write: (off, width, v) => this.writeBytes(off, width, v),
    }];
  }

  /** The window as a little-endian byte array of registers: any width at any offset reads them. */
  private byteAt(off: number): number {
    if (off >= PM_TMR_OFFSET) return (pmTimerAt(this.clock.nowNs()) >>> ((off - PM_TMR_OFFSET) * 8)) & 0xff;
    if (off >= PM1_CNT_OFFSET + PM1_CNT_LEN) return 0xff; // the gap between the blocks: nothing there
    if (off >= PM1_CNT_OFFSET) return (this.control >> ((off - PM1_CNT_OFFSET) * 8)) & 0xff;
    if (off >= PM1_EVT_OFFSET + 2) return (this.enable >> ((off - PM1_EVT_OFFSET - 2) * 8)) & 0xff;
    return 0; // PM1_STS: no event is ever pending
  }

  private readBytes(off: number, width: number): number {
    // One clock read for a whole PM_TMR access, so its bytes belong to one count.
    if (off === PM_TMR_OFFSET && width === 4) return pmTimerAt(this.clock.nowNs());
    let v = 0;
    for (let i = 0; i < width; i++) v |= this.byteAt(off + i) << (8 * i);
    return v >>> 0;
  }

  private writeBytes(off: number, width: number, v: number): void {
    for (let i = 0; i < width; i++) {
      const o = off + i, b = (v >>> (8 * i)) & 0xff;
      if (o === PM1_EVT_OFFSET + 2 || o === PM1_EVT_OFFSET + 3) {
        const shift = (o - PM1_EVT_OFFSET - 2) * 8;
        this.enable = ((this.enable & ~(0xff << shift)) | (b << shift)) & EN_BITS;
      } else if (o === PM1_CNT_OFFSET || o === PM1_CNT_OFFSET + 1) {
        const shift = (o - PM1_CNT_OFFSET) * 8;
        this.control = (((this.control & ~(0xff << shift)) | (b << shift)) & CNT_WRITABLE & ~(1 << 2)) | SCI_EN;
      }
      // PM1_STS is write-1-to-clear of bits that are never set; PM_TMR is read-only.
    }
  }
}
