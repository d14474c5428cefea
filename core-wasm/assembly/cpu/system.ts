// System instructions: control and debug registers (SDM Vol. 3 §2.5, §2.7), CPUID, RDTSC,
// port I/O and the descriptor-table registers. The MSRs are msr.ts.
import { TRAP_PIO, RUN_PAGE_BASE, RUN_APIC_BASE } from "../layout";
import {
  cr0, cr2, cr3, cr4, cpl, pmode, CR0_PE, CR0_PG, CR0_WP, CR0_ET, CR0_NW, CR0_CD, CR4_PSE, CR4_PGE, CR4_PCE, CR4_TSD,
  CR4_DE, F_IOPL, segAttr, segBase, segLimit, TR, tscOffset, r32, w32, EAX, ECX, EDX, EBX,
} from "./state";
import { flags } from "./flags";
import { microcodeCpuid, APIC_BASE_EN } from "./msr";
import { gp, ud, fault } from "./access";
import { tlbFlushAll, tlbFlushNonGlobal, updateAccessMasks, trap, storeInstret, readSys } from "./paging";

@external("vmm", "rdtsc") declare function vmmRdtsc(): i64;

export function writeCr(n: u32, v: u32): void {
  switch (n) {
    case 0: {
      if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) { gp(0); return; }
      if ((v & CR0_NW) != 0 && (v & CR0_CD) == 0) { gp(0); return; }
      const old = cr0;
      cr0 = v | CR0_ET;
      pmode = (cr0 & CR0_PE) != 0;
      if (((old ^ cr0) & (CR0_PG | CR0_WP | CR0_PE)) != 0) tlbFlushAll();
      if (!pmode && cpl != 0) { cpl = 0; updateAccessMasks(); }
      return;
    }
    case 2: cr2 = v; return;
    case 3: cr3 = v; tlbFlushNonGlobal(); return;
    case 4: {
      if ((v & ~(CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE)) != 0) { gp(0); return; }
      const old = cr4;
      cr4 = v;
      if (((old ^ v) & (CR4_PSE | CR4_PGE)) != 0) tlbFlushAll();
      return;
    }
    default: ud(); return;
  }
}
/** MOV r32, CRn; returns false (with #UD raised) for a register that does not exist. */
export function readCr(n: u32): u32 {
  switch (n) {
    case 0: return cr0;
    case 2: return cr2;
    case 3: return cr3;
    case 4: return cr4;
    default: ud(); return 0;
  }
}

// CPUID (SDM Vol. 2A Table 3-8): family 6 model 5 stepping 2, and only features we implement.
const FEAT_EDX: u32 = (1 << 0) /* FPU */ | (1 << 3) /* PSE */ | (1 << 4) /* TSC */ | (1 << 5) /* MSR */ |
  (1 << 8) /* CX8 */ | (1 << 11) /* SEP */ | (1 << 13) /* PGE */ | (1 << 15) /* CMOV */;
const FEAT_APIC: u32 = 1 << 9;
// Leaves 0x15 and 0x16 (SDM Vol. 2A CPUID, "Time Stamp Counter and Nominal Core Crystal Clock
// Information" / "Processor Frequency Information"): the TSC and the local APIC timer both count
// the board's 1 GHz virtual clock (devices/clock.ts TSC_HZ, devices/lapic.ts LAPIC_TIMER_HZ), so
// the crystal is reported as 1 GHz with a TSC/crystal ratio of 1/1. Linux then knows both
// frequencies (native_calibrate_tsc, cpu_khz_from_cpuid) and skips calibrating them against
// the PIT — tens of thousands of port traps and, in realtime mode, tens of milliseconds of
// busy-waiting per boot (more for the LAPIC timer on the APIC board). Leaves 2 to 0x14 read as
// zero: no cache descriptors, no extended features, no topology — all of which Linux accepts.
const CRYSTAL_HZ: u32 = 1_000_000_000;
const MAX_LEAF: u32 = 0x16;
export function cpuid(): void {
  const leaf = r32(EAX);
  if (leaf == 0) {
    w32(EAX, MAX_LEAF);
    w32(EBX, 0x756E_6547); // "Genu"
    w32(EDX, 0x4965_6E69); // "ineI"
    w32(ECX, 0x6C65_746E); // "ntel"
  } else if (leaf == 1) {
    w32(EAX, 0x0000_0652);
    w32(EBX, 0);
    microcodeCpuid();
    w32(ECX, 0);
    // APIC (bit 9) only on a board with a local APIC, and only while it is globally enabled
    // (SDM Vol. 3 §10.4.3: clearing IA32_APIC_BASE.EN makes CPUID report no APIC).
    w32(EDX, FEAT_EDX | ((load<u32>(RUN_PAGE_BASE + RUN_APIC_BASE) & APIC_BASE_EN) != 0 ? FEAT_APIC : 0));
  } else if (leaf == 0x15) {
    w32(EAX, 1); // denominator
    w32(EBX, 1); // numerator: TSC = crystal × 1 / 1
    w32(ECX, CRYSTAL_HZ);
    w32(EDX, 0);
  } else if (leaf == 0x16) {
    w32(EAX, CRYSTAL_HZ / 1_000_000); // base frequency, MHz
    w32(EBX, CRYSTAL_HZ / 1_000_000); // maximum frequency, MHz
    w32(ECX, CRYSTAL_HZ / 1_000_000); // bus (reference) frequency, MHz
    w32(EDX, 0);
  } else if (leaf == 0x8000_0000) {
    w32(EAX, 0x8000_0000); w32(EBX, 0); w32(ECX, 0); w32(EDX, 0);
  } else {
    w32(EAX, 0); w32(EBX, 0); w32(ECX, 0); w32(EDX, 0);
  }
}

/** The VMM's clock may be driven by instructions retired (deterministic mode): publish the
 *  count before asking it for the time. */
export function readTsc(): u64 { storeInstret(); return <u64>(vmmRdtsc() + tscOffset); }

export function rdtsc(): void {
  if ((cr4 & CR4_TSD) != 0 && cpl != 0 && pmode) { gp(0); return; }
  const v = readTsc();
  w32(EAX, <u32>v);
  w32(EDX, <u32>(v >> 32));
}

/** I/O privilege (SDM Vol. 1 §18.5): with CPL > IOPL every bit of the port range in the
 *  32-bit TSS's I/O permission bitmap must be clear. Raises #GP(0) and returns false if not. */
export function ioAllowed(port: u32, sz: u32): bool {
  if (!pmode || cpl <= ((flags & F_IOPL) >> 12)) return true;
  const type = segAttr(TR) & 0xF;
  if (type == 0x9 || type == 0xB) {
    const base = segBase(TR), limit = segLimit(TR);
    if (limit >= 0x67) {
      const off = readSys(base + 0x66, 2) + ((port & 0xFFFF) >> 3);
      if (fault) return false;
      if (off + 1 <= limit) {
        const bits = readSys(base + off, 2);
        if (fault) return false;
        const mask: u32 = ((1 << sz) - 1) << (port & 7);
        if ((bits & mask) == 0) return true;
      }
    }
  }
  gp(0);
  return false;
}
@inline export function portIn(port: u32, sz: u32): u32 { return trap(TRAP_PIO, false, sz, port & 0xFFFF, 0); }
@inline export function portOut(port: u32, sz: u32, v: u32): void { trap(TRAP_PIO, true, sz, port & 0xFFFF, v); }
