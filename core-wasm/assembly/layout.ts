// The one definition of where things live in the shared WebAssembly.Memory.
// scripts/build-core.mjs reads these exports from the built module and writes
// core-wasm/build/layout.ts, so TypeScript never copies an offset by hand.
//
//   0x0000_0000 ┌──────────────────────────────┐
//               │ AssemblyScript static data   │ lookup tables (parity, decode), STATIC_SIZE
//   RUN_PAGE    ├──────────────────────────────┤
//               │ run page (trap record, INTR, │ the ABI between core and devices,
//               │ clock, exit reason)          │ like KVM's struct kvm_run
//   CORE_SCRATCH├──────────────────────────────┤
//               │ core-private tables (TLB…)   │ CORE_SCRATCH_SIZE
//   GUEST_RAM   ├──────────────────────────────┤
//               │ guest physical RAM           │ guest phys 0 = GUEST_RAM_BASE
//               └──────────────────────────────┘ GUEST_RAM_BASE + ramBytes
//
// Guest RAM sits at a constant offset so a RAM access is load<T>(phys, GUEST_RAM_BASE):
// the add folds into the wasm load's offset immediate.

export const STATIC_BASE: u32 = 0;
export const STATIC_SIZE: u32 = 0x0010_0000; // 1 MiB; checked against __heap_base at init

export const RUN_PAGE_BASE: u32 = STATIC_BASE + STATIC_SIZE;
export const RUN_PAGE_SIZE: u32 = 0x1000;

export const CORE_SCRATCH_BASE: u32 = RUN_PAGE_BASE + RUN_PAGE_SIZE;
export const CORE_SCRATCH_SIZE: u32 = 0x00EF_F000; // up to 16 MiB: flat TLB arrays etc.

export const GUEST_RAM_BASE: u32 = CORE_SCRATCH_BASE + CORE_SCRATCH_SIZE; // 16 MiB
export const GUEST_RAM_MAX: u32 = 0x8000_0000 - GUEST_RAM_BASE; // wasm32 keeps us < 2 GiB total
export const WASM_PAGE: u32 = 0x1_0000;

// ---- run page: byte offsets from RUN_PAGE_BASE -------------------------------------------
// Trap record, written by the core before it calls the `vmm.trap` import; the device side
// handles it synchronously and, for a read, stores the result in TRAP_DATA.
export const TRAP_KIND: u32 = 0x00; // u32: TRAP_PIO | TRAP_MMIO
export const TRAP_WRITE: u32 = 0x04; // u32: 1 = guest writes, 0 = guest reads
export const TRAP_SIZE: u32 = 0x08; // u32: access width in bytes: 1, 2 or 4
export const TRAP_ADDR: u32 = 0x0C; // u32: port number or guest physical address
export const TRAP_DATA: u32 = 0x10; // u32: value written / value read back (zero-extended)
// Clock snapshot the core stores before each trap and on each exit, so a device can read
// "now" in deterministic mode without a call back into the core.
export const RUN_INSTRET_LO: u32 = 0x20; // u32: instructions retired since power-on, low half
export const RUN_INSTRET_HI: u32 = 0x24; // u32: high half
// Interrupt request: the PIC (device side) stores 1 while its INTR output is asserted.
// The core samples it at instruction boundaries when EFLAGS.IF=1 and then calls `vmm.intack`.
export const RUN_INTR: u32 = 0x30; // u32: 0/1
export const RUN_NMI: u32 = 0x34; // u32: set to 1 to deliver an NMI; the core clears it
// (RUN_INTR and RUN_NMI are adjacent and 8-aligned: the step loop tests both with one u64 load.)
// IA32_APIC_BASE (MSR 0x1B, SDM Vol. 3 §10.4.4), low half. 0: the board has no local APIC —
// CPUID.1:EDX.APIC stays clear and RDMSR/WRMSR 0x1B raise #GP, as on a PIC-only CPU. The
// board stores the power-on value (base | EN | BSP); a guest WRMSR updates it and is reported
// to the VMM as a TRAP_MSR trap (TRAP_ADDR = 0x1B, TRAP_DATA = the new value).
export const RUN_APIC_BASE: u32 = 0x38; // u32
// 1: PAUSE (F3 90) makes run() return EXIT_PAUSE once it retires, so the VMM can let time
// pass in a spin-wait (deterministic clock) instead of executing it instruction by instruction.
export const RUN_PAUSE_EXIT: u32 = 0x3C; // u32: 0/1
// Why run() returned (also its return value).
export const RUN_EXIT: u32 = 0x40; // u32: EXIT_*
export const RUN_EXIT_ARG: u32 = 0x44; // u32: detail (fault vector for EXIT_SHUTDOWN, …)
// Counters the inspector and --stats read live (u32 each, wrapping).
export const RUN_STAT_PIO: u32 = 0x80;
export const RUN_STAT_MMIO: u32 = 0x84;
export const RUN_STAT_INTS: u32 = 0x88;
export const RUN_STAT_EXCEPTIONS: u32 = 0x8C;
export const RUN_STAT_TLB_MISS: u32 = 0x90;
// Calls of translated regions that retired nothing without a fault: the budget was short of the
// entry block, or the region's entry checks (segments, stack size, CPL) failed. Few, unless a
// region was made for a state the code does not run in.
export const RUN_STAT_JIT_DECLINED: u32 = 0x94;

export const TRAP_PIO: u32 = 1;
export const TRAP_MMIO: u32 = 2;
export const TRAP_MSR: u32 = 3; // a WRMSR the VMM must see (only IA32_APIC_BASE)

export const EXIT_BUDGET: u32 = 0; // the instruction budget is spent
export const EXIT_HLT: u32 = 1; // HLT with IF=1: sleep until an interrupt
export const EXIT_POWEROFF: u32 = 2; // HLT with IF=0 and no NMI possible: the guest is off
export const EXIT_SHUTDOWN: u32 = 3; // triple fault
export const EXIT_RESET: u32 = 4; // a device asked for a reset (keyboard controller, 0x92)
export const EXIT_STOP: u32 = 5; // a device asked the loop to return (RUN_STOP set)
export const EXIT_PAUSE: u32 = 6; // PAUSE retired with RUN_PAUSE_EXIT set

// A device handler stores 1 here to make run() return EXIT_RESET / EXIT_STOP after the
// current instruction (e.g. reset through 0x64 <- 0xFE, or a pause request).
export const RUN_REQUEST: u32 = 0x48; // u32: 0, EXIT_RESET or EXIT_STOP
