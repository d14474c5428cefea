%include "prelude.inc"
; Instruction fetch stops at the CS limit (SDM Vol. 3 §5.3): a 32-bit code segment whose limit
; ends inside an instruction's immediate raises #GP(0) at that instruction, before it executes.
edge equ straddle + 3              ; first byte past the limit: inside the MOV's immediate
test:
  mov word [gdt + 0x48], edge - 1  ; limit 15:0 (byte granular)
  mov word [gdt + 0x4A], 0         ; base 15:0
  mov byte [gdt + 0x4C], 0         ; base 23:16
  mov byte [gdt + 0x4D], 0x9A      ; present, ring 0, execute/read code
  mov byte [gdt + 0x4E], 0x40      ; D=1, G=0, limit 19:16 = 0
  mov byte [gdt + 0x4F], 0         ; base 31:24
  jmp 0x48:inside
inside:
  mov dword [RES], 1               ; inside the limit: runs
straddle:
  mov eax, 0x12345678              ; 5 bytes, the last two past the limit
  mov dword [RES + 4], 1           ; never reached
  hlt
