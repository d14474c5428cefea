%include "prelude.inc"
; One physical page at two linear addresses (4 KiB pages), as the vDSO is in every process:
; code in it computes its own linear address (CALL/POP), pushes a return address (CALL) and
; branches (Jcc); all must follow the mapping it runs through, not the one it was translated at.
%define PD 0x20000
%define PT 0x21000
%define ALIAS 0x300000
test:
  identity_map PT
  mov dword [PT + (ALIAS >> 12) * 4], shared + 3   ; and the shared page again at ALIAS
  paging_on PD, PT

  mov ebx, shared
  mov edi, RES
  call three                    ; through the identity mapping: makes the blocks hot
  mov ebx, ALIAS
  call three                    ; the same physical code at ALIAS
  mov ebx, shared
  call three                    ; and back
  mov dword [RES + 0x40], 0xD0E
  mov dword [RES + 0x44], shared
  cli
  hlt

three:                          ; call [ebx] three times; store EAX, EDX of the last call
  mov ecx, 3
.c:
  xor eax, eax
  xor edx, edx
  call ebx
  dec ecx
  jnz .c
  mov [edi], eax
  mov [edi + 4], edx
  add edi, 8
  ret

align 4096
shared:
  call .next
.next:
  pop eax                       ; EAX = linear address of .next
  call .sub                     ; EDX = linear address of .ret (the pushed return address)
.ret:
  xor ebp, ebp
  cmp ebp, 0
  je .tail
  ud2
.tail:
  ret
.sub:
  mov edx, [esp]
  ret
