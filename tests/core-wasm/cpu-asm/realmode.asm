%include "prelude.inc"
; Back to real mode: 16-bit arithmetic and addressing, IVT interrupts, far CALL/RET, 66/67
; prefixes, string ops with 16-bit registers.
test:
  jmp 0x38:pm16
bits 16
pm16:
  mov ax, 0x40
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov eax, cr0
  and eax, ~1
  mov cr0, eax
  jmp 0:real
real:
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7000
  lidt [ivt]
  mov word [0x30*4], int30
  mov word [0x30*4 + 2], 0
  mov ax, 0x1234
  mov bx, 0x10
  mul bx                        ; DX:AX = 0x12340
  mov [RES + 0], ax
  mov [RES + 2], dx
  mov si, 4
  mov bx, RES
  mov word [bx + si + 8], 0xBEEF
  mov ax, [RES + 12]
  mov [RES + 4], ax             ; 0xBEEF
  int 0x30                      ; handler writes 0x3030
  call 0:farproc
  mov eax, 0x89ABCDEF           ; 66 prefix in 16-bit code
  mov [RES + 16], eax
  mov ax, 0x0800
  mov es, ax                    ; ES base 0x8000
  mov di, 0x0820                ; linear 0x8820 = RES + 0x20
  mov cx, 3
  mov ax, 0x5A5A
  cld
  rep stosw
  pushf
  pop ax
  mov [RES + 28], ax
  xor ax, ax
  mov es, ax
  mov dword [RES + 40], 0xD0E
  cli
  hlt
int30:
  mov word [RES + 6], 0x3030
  iret
farproc:
  mov word [RES + 8], 0xFA
  retf
ivt:
  dw 0x3FF
  dd 0
