%include "prelude.inc"
; The P6 MSRs Linux touches on family 6 model 5 (SDM Vol. 4 "MSRs in the P6 Family Processors"):
; IA32_PLATFORM_ID (0x17, R), the microcode interface (0x79 W, 0x8B R/W, loaded by CPUID.1),
; PerfCtr0/1 (0xC1/0xC2, 40 bits, writes sign-extend bit 31) and PerfEvtSel0/1 (0x186/0x187).
%macro try 1                    ; the next instruction may #GP: resume at %1
  mov dword [resume], %1
%endmacro
test:
  mov ecx, 0x17
  rdmsr
  mov [RES + 0], eax
  mov [RES + 4], edx
  try .r1
  mov ecx, 0x17
  wrmsr                         ; read-only: #GP (1)
.r1:
  ; the microcode signature: any value is written; CPUID.1 loads the revision into 63:32
  mov ecx, 0x8B
  mov eax, 0x11111111
  mov edx, 0x22222222
  wrmsr
  rdmsr
  mov [RES + 8], eax
  mov [RES + 12], edx
  mov eax, 1
  cpuid
  mov ecx, 0x8B
  rdmsr
  mov [RES + 16], eax
  mov [RES + 20], edx
  try .r2
  mov ecx, 0x79
  rdmsr                         ; write-only: #GP (2)
.r2:
  try .r3
  mov ecx, 0x79
  mov eax, 0x100000             ; no valid update there: nothing loaded, no fault
  xor edx, edx
  wrmsr
  mov dword [RES + 24], 0xC0DE
.r3:
  ; counters and selects after reset, and the 40-bit sign extension of a counter write
  mov ecx, 0x186
  rdmsr
  mov [RES + 28], eax
  mov ecx, 0x187
  rdmsr
  mov [RES + 32], eax
  mov ecx, 0xC1
  mov eax, 0x80000001
  mov edx, 0x12345678           ; ignored: bits 39:32 come from bit 31
  wrmsr
  rdmsr
  mov [RES + 36], eax
  mov [RES + 40], edx
  mov ecx, 0xC2
  mov eax, 0x7FFFFFFF
  mov edx, 0xFF
  wrmsr
  rdmsr
  mov [RES + 44], eax
  mov [RES + 48], edx
  try .r4
  mov ecx, 0x186
  xor eax, eax
  mov edx, 1                    ; a reserved bit: #GP (3)
  wrmsr
.r4:
  ; INST_RETIRED (0xC0) in both rings, enabled by PerfEvtSel0.EN: counts retired instructions
  mov ecx, 0xC1
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0xC2
  wrmsr
  mov ecx, 0x187
  mov eax, 0xC0 | (3 << 16)     ; counter 1: INST_RETIRED, USR and OS
  wrmsr
  mov ecx, 0x186
  mov eax, 0xC0 | (3 << 16) | (1 << 22)   ; counter 0 likewise, and EN for both
  wrmsr
  mov ecx, 0xC1
  rdmsr                         ; A
  mov esi, eax
  nop
  nop
  nop
  rdmsr                         ; B: A, mov, 3 nops retired since A
  sub eax, esi
  mov [RES + 52], eax
  mov ecx, 0x186
  mov eax, 0xC0 | (1 << 16) | (1 << 22)   ; user mode only: not counted here
  xor edx, edx
  wrmsr
  mov ecx, 0xC1
  rdmsr
  mov esi, eax
  nop
  rdmsr
  sub eax, esi
  mov [RES + 56], eax
  mov ecx, 0xC2                 ; counter 1 counted since EN was first set, until now
  rdmsr
  mov [RES + 60], eax
  mov ecx, 0x186
  xor eax, eax                  ; EN clear: both stop
  xor edx, edx
  wrmsr
  mov ecx, 0xC2
  rdmsr
  mov esi, eax
  nop
  rdmsr
  sub eax, esi
  mov [RES + 64], eax
  ; RDPMC (Linux reads its counters with it): counter 1 as RDMSR 0xC2 gives it; ECX 2 #GPs (4)
  mov ecx, 1
  rdpmc
  mov [RES + 72], eax
  mov [RES + 76], edx
  try .r5
  mov ecx, 2
  rdpmc
.r5:
  mov eax, cr4
  or eax, 0x100                 ; CR4.PCE exists on the P6
  mov cr4, eax
  mov eax, cr4
  mov [RES + 80], eax
  mov dword [resume], 0
  mov dword [RES + 68], 0xD0E
  cli
  hlt
