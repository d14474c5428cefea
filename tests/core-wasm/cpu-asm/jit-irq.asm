%include "prelude.inc"
; Interrupt timing in a hot loop with IF=1: the host raises INTR from the trap of a port write
; (iteration 11) and of an MMIO store (iteration 16, a store the translator generates inline
; with a slow path); the handler logs where it interrupted: the very next instruction, as the
; interpreter takes it at the next boundary. The host also notes the instruction count at
; each trap (the deterministic clock is derived from it).
%define MMIO 0x7FF00000
test:
  mov eax, irq_handler
  mov [idt + 0x20*8], ax
  shr eax, 16
  mov [idt + 0x20*8 + 6], ax
  xor esi, esi
  xor edi, edi
  mov ecx, 20
  sti
top:
  inc esi
  cmp ecx, 10
  jne after_out
  out 0x80, al                  ; the host raises INTR here
after_out:
  inc edi
  lea ebx, [esi + edi]          ; not first in its block: MMIO accesses the block reaches mid-way
  mov eax, [MMIO + 4]
  mov [MMIO], ecx               ; ... and here when ECX = 5
after_mmio:
  dec ecx
  jnz top
  mov [RES + 4], esi
  mov [RES + 8], edi
  mov dword [RES + 0x40], after_out
  mov dword [RES + 0x44], after_mmio
  mov dword [RES + 0x48], 0xD0E
  cli
  hlt

irq_handler:                    ; log (return EIP, ESI, EDI, ECX) at RES + 0x10 + 16n
  push eax
  push ebx
  mov ebx, [RES]
  shl ebx, 4
  mov eax, [esp + 8]
  mov [RES + 0x10 + ebx], eax
  mov [RES + 0x14 + ebx], esi
  mov [RES + 0x18 + ebx], edi
  mov [RES + 0x1C + ebx], ecx
  inc dword [RES]
  pop ebx
  pop eax
  iret
