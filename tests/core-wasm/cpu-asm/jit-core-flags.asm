%include "prelude.inc"
; Conditions and INC/DEC read at the start of a block entered from outside (after a RET), where
; the flags are the core's lazy state as the previous block left it: every lazy kind (ADD, ADC
; and SBB with and without a carry in, SUB, logic, INC, DEC, flags loaded whole by POPF) at 8
; and 32 bits, then all sixteen SETcc and an INC (CF kept) whose flags go to memory by PUSHF.
%define OUT 0x40000
%define VALS 0x3F000
%macro CASE 2
  mov eax, [esi]
  mov ebx, [esi + 4]
  %1
  %2
  push %%after
  ret                           ; the next block is entered from outside
%%after:
  seto [edi + 0]
  setno [edi + 1]
  setb [edi + 2]
  setae [edi + 3]
  sete [edi + 4]
  setne [edi + 5]
  setbe [edi + 6]
  seta [edi + 7]
  sets [edi + 8]
  setns [edi + 9]
  setp [edi + 10]
  setnp [edi + 11]
  setl [edi + 12]
  setge [edi + 13]
  setle [edi + 14]
  setg [edi + 15]
  push %%after2
  ret
%%after2:
  inc ecx                       ; CF from the core's lazy state, kept
  pushfd
  pop dword [edi + 16]
  add edi, 20
%endmacro
test:
  ; value pairs: a, b, and the EFLAGS image POPF loads
  mov edi, VALS
  mov dword [edi + 0], 0
  mov dword [edi + 4], 0
  mov dword [edi + 8], 0x8D5
  mov dword [edi + 12], 1
  mov dword [edi + 16], 1
  mov dword [edi + 20], 0x2
  mov dword [edi + 24], 0x7FFFFFFF
  mov dword [edi + 28], 1
  mov dword [edi + 32], 0x8C1
  mov dword [edi + 36], 0x80000000
  mov dword [edi + 40], 1
  mov dword [edi + 44], 0x45
  mov dword [edi + 48], 0xFFFFFFFF
  mov dword [edi + 52], 1
  mov dword [edi + 56], 0x80
  mov dword [edi + 60], 5
  mov dword [edi + 64], 0xFFFFFFFF   ; with a carry in: a result equal to the operand
  mov dword [edi + 68], 0x801
  mov dword [edi + 72], 0x7F
  mov dword [edi + 76], 0x80
  mov dword [edi + 80], 0x4
  mov dword [edi + 84], 0x12345680
  mov dword [edi + 88], 0x12345680
  mov dword [edi + 92], 0x10
  mov edi, OUT
  mov esi, VALS
  mov ebp, 8
.v:
  xor ecx, ecx
  CASE nop, {add eax, ebx}
  CASE {clc}, {adc eax, ebx}
  CASE {stc}, {adc eax, ebx}
  CASE nop, {sub eax, ebx}
  CASE {clc}, {sbb eax, ebx}
  CASE {stc}, {sbb eax, ebx}
  CASE nop, {and eax, ebx}
  CASE nop, {inc eax}
  CASE nop, {dec eax}
  CASE nop, {add al, bl}
  CASE {stc}, {adc al, bl}
  CASE nop, {sub al, bl}
  CASE {stc}, {sbb al, bl}
  CASE nop, {dec al}
  CASE {push dword [esi + 8]}, {popfd}
  CASE {mov ecx, 0xFFFFFFFF}, {cmp eax, ebx}
  add esi, 12
  dec ebp
  jnz .v
  mov [RES], edi
  mov dword [RES + 4], 0xD0E
  cli
  hlt
