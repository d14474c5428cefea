%include "prelude.inc"
; CPUID.1:EDX.APIC and IA32_APIC_BASE (MSR 0x1B), which exist only when the board stores a
; nonzero RUN_APIC_BASE; PAUSE, which ends run() with EXIT_PAUSE when RUN_PAUSE_EXIT is set.
test:
  mov eax, 1
  cpuid
  mov [RES + 0], edx
  mov dword [RES + 4], 0x5A5A5A5A
  mov dword [resume], .r1
  mov ecx, 0x1B
  rdmsr                         ; #GP without an APIC
  mov [RES + 4], eax
  mov [RES + 8], edx
.r1:
  mov dword [resume], .r2
  mov ecx, 0x1B
  mov eax, 0xFEE00800           ; EN, BSP clear (read-only: stays set)
  xor edx, edx
  wrmsr
.r2:
  mov dword [RES + 12], 0x5A5A5A5A
  mov dword [resume], .r3
  mov ecx, 0x1B
  rdmsr
  mov [RES + 12], eax
.r3:
  mov dword [resume], .r4
  mov ecx, 0x1B
  mov eax, 0xFEE00C00           ; bit 10 (x2APIC enable): reserved here, #GP
  xor edx, edx
  wrmsr
.r4:
  mov dword [resume], 0
  pause
  mov dword [RES + 16], 0xD0E
  cli
  hlt
