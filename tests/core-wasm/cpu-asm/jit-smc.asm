%include "prelude.inc"
; Self-modifying code under the JIT: a loop whose code is patched (1) by a store earlier in
; the same block, (2) by a subroutine (another block) it calls, including an opcode byte.
; Stale translations would add the old immediates and keep INC where DEC was written.
test:
  xor ecx, ecx
  xor eax, eax
  xor edx, edx
  xor esi, esi
top:
  mov [site1 + 1], ecx          ; same block: the ADD below must add i
site1:
  db 0x05                       ; add eax, imm32
  dd 0x7777
  call patch2                   ; another block patches site2 (and site3 once)
site2:
  db 0x81, 0xC2                 ; add edx, imm32
  dd 0x7777
site3:
  inc esi                       ; becomes DEC ESI from i = 3 on
  inc ecx
  cmp ecx, 10
  jb top
  mov [RES + 0], eax            ; sum of i = 45
  mov [RES + 4], edx            ; sum of 2i = 90
  mov [RES + 8], esi            ; 3 - 7 = -4
  mov dword [RES + 12], 0xD0E
  cli
  hlt

patch2:
  lea ebx, [ecx + ecx]
  mov [site2 + 2], ebx
  cmp ecx, 3
  jne .r
  mov byte [site3], 0x4E        ; DEC ESI
.r:
  ret
