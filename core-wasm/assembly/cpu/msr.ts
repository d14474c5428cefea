// RDMSR and WRMSR: the model-specific registers of the CPU Vireo reports (CPUID family 6 model 5,
// a P6-family Pentium II), as the SDM Vol. 4 table "MSRs in the P6 Family Processors" lists them,
// plus the architectural ones the P6 already had (TSC, APIC base, SYSENTER). An MSR the table
// does not list, or a write the table marks read-only or that sets a reserved bit, is #GP(0),
// as on the part. The MTRRs and the machine-check banks stay absent: CPUID does not report
// them (no MTRR, MCE or MCA bit), and the kernel never touches them then.
import { TRAP_MSR, RUN_PAGE_BASE, RUN_APIC_BASE } from "../layout";
import { cpl, pmode, cr4, CR4_PCE, sysenterCs, sysenterEsp, sysenterEip, tscOffset, instretCount, r32, w32, EAX, ECX, EDX } from "./state";
import { gp } from "./access";
import { trap, storeInstret } from "./paging";
import { readTsc } from "./system";

@external("vmm", "rdtsc") declare function vmmRdtsc(): i64;

const MSR_TSC: u32 = 0x10;
// IA32_PLATFORM_ID (R): bits 52:50 the platform the part is for (1 << id is the "processor
// flags" a microcode update's header is matched against). Platform 0, everything else 0.
const MSR_PLATFORM_ID: u32 = 0x17;
const PLATFORM_ID: u64 = <u64>0 << 50;
// IA32_APIC_BASE (SDM Vol. 3 §10.4.4 Figure 10-5): BSP bit 8 (read-only), EN bit 11, base in
// bits 31:12 (MAXPHYADDR 32: the high half is reserved). Bits 7:0, 9 and 10 (x2APIC) reserved.
const MSR_APIC_BASE: u32 = 0x1B;
const APIC_BASE_BSP: u32 = 1 << 8;
export const APIC_BASE_EN: u32 = 1 << 11;
const APIC_BASE_WRITABLE: u32 = 0xFFFF_F000 | APIC_BASE_EN;
// The microcode update interface (SDM Vol. 3 §9.11): a write of an update's linear address to
// IA32_BIOS_UPDT_TRIG (W) loads it if it is valid for this part; IA32_BIOS_SIGN_ID (R/W) takes
// any write, and CPUID leaf 1 loads the revision of the loaded update into its bits 63:32. No
// update is ever loaded here (there is no microcode to replace), so the revision stays 0 and
// a loader that checks it after the trigger sees that the update did not take.
const MSR_BIOS_UPDT_TRIG: u32 = 0x79;
const MSR_BIOS_SIGN_ID: u32 = 0x8B;
const MICROCODE_REV: u64 = 0;
// Performance monitoring (SDM Vol. 3 "Performance Monitoring Events for P6 Family"): two 40-bit
// counters, PerfCtr0/1, and their event selects, PerfEvtSel0/1. WRMSR to a counter writes bits
// 31:0 and sign-extends bit 31 into 39:32. EN (bit 22) of PerfEvtSel0 starts and stops both.
const MSR_PERFCTR0: u32 = 0xC1, MSR_PERFCTR1: u32 = 0xC2;
const MSR_EVNTSEL0: u32 = 0x186, MSR_EVNTSEL1: u32 = 0x187;
const CTR_MASK: u64 = (<u64>1 << 40) - 1;
const SEL_USR: u32 = 1 << 16, SEL_OS: u32 = 1 << 17, SEL_EN: u32 = 1 << 22;
// Event 0xC0, INST_RETIRED, is the one event Vireo knows exactly, and only for both rings
// (USR and OS): a counter for it advances with the retired-instruction count. Every other event
// (caches, buses, branches predicted, cycles of a clock this CPU does not have) or a one-ring
// selection does not occur here: its counter keeps the value written to it.
const EV_INST_RETIRED: u32 = 0xC0;
const MSR_SYSENTER_CS: u32 = 0x174, MSR_SYSENTER_ESP: u32 = 0x175, MSR_SYSENTER_EIP: u32 = 0x176;

/** IA32_BIOS_SIGN_ID as last written or loaded by CPUID(1). */
export let biosSignId: u64 = 0;
/** PerfEvtSel0/1 (the high halves are reserved: always 0). */
export let perfEvtSel0: u32 = 0, perfEvtSel1: u32 = 0;
/**
 * PerfCtr0/1: the value at the retired-instruction count perfStart0/1 (the count when it was
 * written or began counting); a counting counter reads value + instructions since.
 */
export let perfCtr0: u64 = 0, perfCtr1: u64 = 0;
export let perfStart0: u64 = 0, perfStart1: u64 = 0;

/** Power-on and RESET values (SDM Vol. 3 Table 9-1: the counters and selects are cleared). */
export function msrReset(): void {
  biosSignId = 0;
  perfEvtSel0 = 0; perfEvtSel1 = 0;
  perfCtr0 = 0; perfCtr1 = 0;
  perfStart0 = 0; perfStart1 = 0;
}

/** CPUID leaf 1 ran: the revision of the loaded update into IA32_BIOS_SIGN_ID[63:32]. */
export function microcodeCpuid(): void {
  biosSignId = (MICROCODE_REV << 32) | (biosSignId & 0xFFFF_FFFF);
}

@inline function counting(sel: u32): bool {
  return (perfEvtSel0 & SEL_EN) != 0 && (sel & 0xFF) == EV_INST_RETIRED && (sel & (SEL_USR | SEL_OS)) == (SEL_USR | SEL_OS);
}
function counter(value: u64, start: u64, sel: u32, now: u64): u64 {
  return counting(sel) ? (value + (now - start)) & CTR_MASK : value;
}
// A WRMSR that changes what is counted retires under the selection it replaces (so the one
// that sets EN is not counted, the one that clears it is), and a counter's new value is what
// the next instruction reads: both fold in at instretCount + 1, the count once it retires.
/** Fold each counter's count into its value before EN or an event select changes. */
function settleCounters(): void {
  const now = instretCount + 1;
  perfCtr0 = counter(perfCtr0, perfStart0, perfEvtSel0, now);
  perfCtr1 = counter(perfCtr1, perfStart1, perfEvtSel1, now);
  perfStart0 = now;
  perfStart1 = now;
}

export function rdmsr(): void {
  if (cpl != 0) { gp(0); return; }
  let v: u64;
  switch (r32(ECX)) {
    case MSR_TSC: v = readTsc(); break;
    case MSR_PLATFORM_ID: v = PLATFORM_ID; break;
    case MSR_BIOS_SIGN_ID: v = biosSignId; break;
    case MSR_PERFCTR0: v = counter(perfCtr0, perfStart0, perfEvtSel0, instretCount); break;
    case MSR_PERFCTR1: v = counter(perfCtr1, perfStart1, perfEvtSel1, instretCount); break;
    case MSR_EVNTSEL0: v = perfEvtSel0; break;
    case MSR_EVNTSEL1: v = perfEvtSel1; break;
    case MSR_SYSENTER_CS: v = sysenterCs; break;
    case MSR_SYSENTER_ESP: v = sysenterEsp; break;
    case MSR_SYSENTER_EIP: v = sysenterEip; break;
    case MSR_APIC_BASE: {
      const a = load<u32>(RUN_PAGE_BASE + RUN_APIC_BASE);
      if (a == 0) { gp(0); return; }
      v = a;
      break;
    }
    default: gp(0); return; // MSR_BIOS_UPDT_TRIG is write-only
  }
  w32(EAX, <u32>v);
  w32(EDX, <u32>(v >> 32));
}

/**
 * RDPMC (SDM Vol. 2B; P6: ECX 0 or 1 selects PerfCtr0/1, all 40 bits in EDX:EAX). Outside ring 0
 * in protected mode only with CR4.PCE set; #GP(0) otherwise, and for any other counter.
 */
export function rdpmc(): void {
  if ((cr4 & CR4_PCE) == 0 && cpl != 0 && pmode) { gp(0); return; }
  let v: u64;
  switch (r32(ECX)) {
    case 0: v = counter(perfCtr0, perfStart0, perfEvtSel0, instretCount); break;
    case 1: v = counter(perfCtr1, perfStart1, perfEvtSel1, instretCount); break;
    default: gp(0); return;
  }
  w32(EAX, <u32>v);
  w32(EDX, <u32>(v >> 32));
}

export function wrmsr(): void {
  if (cpl != 0) { gp(0); return; }
  const lo = r32(EAX), hi = r32(EDX);
  switch (r32(ECX)) {
    case MSR_TSC: storeInstret(); tscOffset = <i64>((<u64>hi << 32) | <u64>lo) - vmmRdtsc(); break;
    case MSR_BIOS_UPDT_TRIG: break; // no update is valid for this part: nothing is loaded
    case MSR_BIOS_SIGN_ID: biosSignId = (<u64>hi << 32) | <u64>lo; break;
    case MSR_PERFCTR0: perfCtr0 = <u64><i64><i32>lo & CTR_MASK; perfStart0 = instretCount + 1; break;
    case MSR_PERFCTR1: perfCtr1 = <u64><i64><i32>lo & CTR_MASK; perfStart1 = instretCount + 1; break;
    case MSR_EVNTSEL0: if (hi != 0) { gp(0); return; } settleCounters(); perfEvtSel0 = lo; break;
    case MSR_EVNTSEL1: if (hi != 0) { gp(0); return; } settleCounters(); perfEvtSel1 = lo; break;
    case MSR_SYSENTER_CS: sysenterCs = lo & 0xFFFF; break;
    case MSR_SYSENTER_ESP: sysenterEsp = lo; break;
    case MSR_SYSENTER_EIP: sysenterEip = lo; break;
    case MSR_APIC_BASE: {
      const a = load<u32>(RUN_PAGE_BASE + RUN_APIC_BASE);
      if (a == 0 || hi != 0 || (lo & ~(APIC_BASE_WRITABLE | APIC_BASE_BSP)) != 0) { gp(0); return; }
      const nv = (lo & APIC_BASE_WRITABLE) | (a & APIC_BASE_BSP);
      store<u32>(RUN_PAGE_BASE + RUN_APIC_BASE, nv);
      trap(TRAP_MSR, true, 4, MSR_APIC_BASE, nv);
      break;
    }
    default: gp(0); return; // IA32_PLATFORM_ID is read-only
  }
}
