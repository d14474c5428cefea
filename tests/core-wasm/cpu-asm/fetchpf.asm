%include "prelude.inc"
; Instructions that straddle a page boundary (SDM Vol. 3 §4.7: an instruction fetch that needs
; a not-present page raises #PF with CR2 = the first byte on that page and the saved EIP at the
; instruction's first byte, prefixes included). Each case copies a few bytes so that they end
; at CODE_END (page 0x71000 mapped, 0x72000 not) and jumps to their first byte. Then the same
; bytes with the next page present, where they execute.
%define PD 0x20000
%define PT 0x21000
%define CODE_END 0x72000          ; first byte of the page that is made not present
%define NEXT_PAGE_PTE PT + 0x72*4

; Copy the first %2 bytes of the instruction at %1 to CODE_END - %2 (the rest would be on the
; missing page; EDI, ESI, ECX are used), jump there, resume at %3.
%macro straddle 3
  mov esi, %1
  mov edi, CODE_END - %2
  mov ecx, %2
  rep movsb
  mov dword [resume], %3
  jmp CODE_END - %2
%endmacro

test:
  identity_map PT
  mov edi, PD
  xor eax, eax
  mov ecx, 1024
  rep stosd
  paging_on PD, PT
  mov dword [NEXT_PAGE_PTE], 0     ; page 0x72000 not present
  mov eax, CODE_END
  invlpg [eax]

  straddle jne32, 1, .r1 ; 0F | 85 rel32: the second opcode byte on the next page
.r1:
  straddle jne32, 3, .r2 ; 0F 85 xx | xx xx xx: the displacement straddles
.r2:
  straddle movzx, 2, .r3 ; 0F B6 | ModRM
.r3:
  straddle movsib, 3, .r4 ; 8B 84 24 | disp32 (SIB inside, displacement outside)
.r4:
  straddle opsize, 1, .r5 ; 66 | 8B C1: a prefix, the opcode on the next page
.r5:
  ; The next page present: the same bytes run, and fall through to a RET placed after them.
  mov dword [NEXT_PAGE_PTE], 0x72000 | 3
  mov eax, CODE_END
  invlpg [eax]
  mov esi, movsib
  mov edi, CODE_END - 3
  mov ecx, movsib_len
  rep movsb
  mov byte [edi], 0xC3
  mov dword [0x60044], 0xC0FFEE11
  mov esp, 0x60004                  ; the CALL pushes to 0x60000: [esp + 0x44] is the value
  call CODE_END - 3                 ; mov eax, [esp + 0x44] ; ret
  mov esp, STACK0
  mov [RES + 0], eax                ; 0xC0FFEE11
  mov esi, movzx
  mov edi, CODE_END - 2
  mov ecx, movzx_len
  rep movsb
  mov byte [edi], 0xC3
  mov ebx, 0x1234ABCD
  call CODE_END - 2                 ; movzx eax, bl ; ret
  mov [RES + 4], eax                ; 0xCD
  mov esi, jne32
  mov edi, CODE_END - 1
  mov ecx, jne32_len
  rep movsb
  mov byte [edi], 0xC3              ; not taken: falls through to this RET
  mov dword [edi + 0x10], 0x90909090
  xor eax, eax                      ; ZF = 1: JNE not taken
  call CODE_END - 1
  mov dword [RES + 8], 0xD0E
  cli
  hlt

jne32: db 0x0F, 0x85, 0x10, 0x00, 0x00, 0x00   ; jne $+0x16
jne32_len equ $ - jne32
movzx: db 0x0F, 0xB6, 0xC3                     ; movzx eax, bl
movzx_len equ $ - movzx
movsib: db 0x8B, 0x84, 0x24, 0x44, 0x00, 0x00, 0x00 ; mov eax, [esp + 0x44]
movsib_len equ $ - movsib
opsize: db 0x66, 0x8B, 0xC1                    ; mov ax, cx
opsize_len equ $ - opsize
