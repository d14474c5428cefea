%include "prelude.inc"
; The fetch window below EIP: in a code segment whose base is not page-aligned (page offset
; 0x800) the bytes of the same page below offset 0 are not part of the segment. A near jump
; to an EIP that wraps below 0 (0xFFFFF900, far past the limit) must raise #GP(0) (SDM Vol. 3
; §5.3), not run the bytes that lie there linearly.
%define SEGBASE 0x70800
test:
  mov word [gdt + 0x48], 0x0FFF    ; limit 15:0 (byte granular)
  mov word [gdt + 0x4A], SEGBASE & 0xFFFF
  mov byte [gdt + 0x4C], SEGBASE >> 16
  mov byte [gdt + 0x4D], 0x9A      ; present, ring 0, execute/read code
  mov byte [gdt + 0x4E], 0x40      ; D=1, G=0, limit 19:16 = 0
  mov byte [gdt + 0x4F], 0
  ; at segment offset 0x10: jmp near to offset 0xFFFFF900 (rel32 from 0x15)
  mov byte [SEGBASE + 0x10], 0xE9
  mov dword [SEGBASE + 0x11], 0xFFFFF900 - 0x15
  ; linear SEGBASE + 0xFFFFF900 = 0x70100 (same page, below the base): a store the fault skips
  mov byte [0x70100], 0xA3         ; mov [RES + 4], eax
  mov dword [0x70101], RES + 4
  mov byte [0x70105], 0xF4         ; hlt
  mov eax, 0xBAD
  mov dword [resume], 0            ; the #GP handler halts
  mov dword [RES], 1
  jmp 0x48:0x10
