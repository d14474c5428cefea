%include "prelude.inc"
; Conditions read at the start of a block from flags the previous block of the region left in
; the core (translate.ts flagsIn): `cmp; je a; jb b` ends a block at JE, and JB begins the next.
; CMP at 8, 16 and 32 bits with signed and unsigned conditions, TEST, and ADD (carry, zero,
; sign), over operands that cross the sign bit; each outcome adds its own weight to a sum.
test:
  xor esi, esi
  xor edi, edi
  xor ebp, ebp
  mov ecx, 300
.l:
  imul eax, ecx, 0x9E3779B1     ; operands that wander over both signs at every size
  mov ebx, eax
  ror ebx, 13
  cmp eax, ebx                  ; 32-bit
  je .e32
  jb .b32
  jl .l32
  add esi, 1
  jmp .n32
.e32:
  add esi, 0x100
  jmp .n32
.b32:
  jg .bg32
  add esi, 0x1000
  jmp .n32
.bg32:
  add esi, 0x10000
.l32:
  add esi, 0x100000
.n32:
  cmp ax, bx                    ; 16-bit
  ja .a16
  jge .ge16
  add edi, 1
  jmp .n16
.a16:
  jle .ale16
  add edi, 0x100
  jmp .n16
.ale16:
  add edi, 0x1000
  jmp .n16
.ge16:
  add edi, 0x10000
.n16:
  cmp al, bl                    ; 8-bit
  jbe .be8
  js .s8
  add edi, 0x100000
  jmp .n8
.be8:
  jo .o8
  add edi, 0x1000000
  jmp .n8
.o8:
  add edi, 0x2000000
  jmp .n8
.s8:
  add edi, 0x4000000
.n8:
  test eax, 0x80010
  jz .z
  js .ts
  add ebp, 1
  jmp .nt
.z:
  add ebp, 0x100
  jmp .nt
.ts:
  add ebp, 0x1000
.nt:
  mov edx, eax
  add edx, ebx                  ; carry, zero, sign of a sum
  jc .c
  js .as
  add ebp, 0x10000
  jmp .na
.c:
  jnz .cnz
  add ebp, 0x100000
  jmp .na
.cnz:
  add ebp, 0x1000000
  jmp .na
.as:
  add ebp, 0x2000000
.na:
  dec ecx
  jnz .l
  mov [RES], esi
  mov [RES + 4], edi
  mov [RES + 8], ebp
  mov dword [RES + 0x40], 0xD0E
  cli
  hlt
