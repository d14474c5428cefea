%include "prelude.inc"
; Calls of PC thunks (`mov reg, [esp]; ret`, what position-independent i386 code calls to learn
; its address), which the translator generates inline: one in the caller's page, one in another
; page reached through a linear address whose mapping then changes, and whose bytes are then
; rewritten — each time the code must do what the thunk now in memory does.
%define PD 0x20000
%define PT 0x21000
%define FAR 0x300000            ; linear address of the other page's thunk
test:
  identity_map PT
  mov dword [PT + (FAR >> 12) * 4], thunk_a + 3
  paging_on PD, PT

  mov edi, RES
  call round                    ; FAR: thunk_a (EBX)
  mov dword [PT + (FAR >> 12) * 4], thunk_b + 3
  mov eax, cr3                  ; FAR now maps thunk_b (EDX): flush the TLB
  mov cr3, eax
  call round
  mov byte [thunk_b + 1], 0x0c  ; thunk_b rewritten to load ECX
  call round
  mov dword [RES + 0x40], 0xD0E
  mov dword [RES + 0x44], round.far_ret
  mov dword [RES + 0x48], round.near_ret
  cli
  hlt

round:                          ; 6 times: call both thunks; store what they set, once
  mov esi, 6
.r:
  xor eax, eax
  xor ebx, ebx
  xor ecx, ecx
  xor edx, edx
  call FAR
.far_ret:
  mov ebp, [esp - 4]            ; the return address the CALL wrote below ESP
  call near_thunk
.near_ret:
  dec esi
  jnz .r
  mov [edi], eax
  mov [edi + 4], ebx
  mov [edi + 8], ecx
  mov [edi + 12], edx
  mov [edi + 16], ebp
  add edi, 20
  ret

near_thunk:
  mov eax, [esp]
  ret

align 4096
thunk_a:
  mov ebx, [esp]
  ret
align 4096
thunk_b:
  mov edx, [esp]
  ret
align 4096
