%include "prelude.inc"
; Ring 3 through IRET, INT 0x80 with the TSS stack switch, privileged instructions faulting
; in ring 3, SYSENTER/SYSEXIT, and a far return to an outer ring.
test:
  mov word [gdt + 0x30], 0x67 + 32      ; TSS limit covers an I/O bitmap for ports 0..255
  mov word [tss + 0x66], 0x68
  mov byte [tss + 0x68 + 0x10], 1       ; port 0x80 denied, 0x81 allowed
  mov ax, 0x30
  ltr ax
  mov dword [gates_done], 0
  ; SYSENTER MSRs
  mov ecx, 0x174
  mov eax, 0x10
  xor edx, edx
  wrmsr
  mov ecx, 0x175
  mov eax, 0xA800
  wrmsr
  mov ecx, 0x176
  mov eax, sysenter_entry
  wrmsr
  ; gate 0x81 ends the test from ring 3
  mov eax, finish
  mov [idt + 0x81*8], ax
  shr eax, 16
  mov [idt + 0x81*8 + 6], ax
  mov ax, 0x2B                  ; IRET to ring 3 nulls DPL-0 data segments: load user ones
  mov ds, ax
  mov es, ax
  push dword 0x2B               ; SS
  push dword 0x7000             ; ESP
  push dword 0x0002             ; EFLAGS: IOPL 0, IF 0
  push dword 0x23               ; CS
  push dword user
  iret

user:
  mov [RES + 0], cs
  mov [RES + 4], ss
  mov eax, 0x80
  mov dword [resume], .u0
  int 0x80                      ; logged: vector 0x80, CS 0x23, handler ESP below ESP0
.u0:
  mov dword [resume], .u1
  cli                           ; #GP(0): CPL 3 > IOPL 0
.u1:
  mov dword [resume], .u2
  mov eax, cr0                  ; #GP(0)
.u2:
  mov dword [resume], .u3
  hlt                           ; #GP(0)
.u3:
  mov dword [resume], .u4
  mov ax, 0x18
  mov ds, ax                    ; #GP(0x18): DPL 0 data from CPL 3
.u4:
  mov dword [resume], .u5
  in al, 0x80                   ; #GP(0): denied by the I/O bitmap
.u5:
  in al, 0x81                   ; allowed by the I/O bitmap
  mov ecx, esp
  mov edx, .u6
  sysenter
.u6:
  mov [RES + 8], cs             ; 0x23 again
  mov [RES + 12], ss            ; 0x2B
  mov [RES + 16], esp           ; 0x7000
  int 0x81

sysenter_entry:
  mov [RES + 20], cs            ; 0x10
  mov [RES + 24], ss            ; 0x18
  mov [RES + 28], esp           ; 0xA800
  sysexit

finish:                         ; ring 0 via the DPL-3 gate: check the pushed frame
  mov eax, [esp + 4]
  mov [RES + 32], eax           ; pushed CS 0x23
  mov eax, [esp + 16]
  mov [RES + 36], eax           ; pushed SS 0x2B
  mov eax, [esp + 12]
  mov [RES + 40], eax           ; pushed ESP 0x7000
  mov [RES + 44], esp           ; ESP0 - 20
  ; far return to ring 3 and back through a call gate at 0x48 -> gate_target
  mov eax, gate_target
  mov [gdt + 0x48], ax
  mov word [gdt + 0x48 + 2], 0x10
  mov word [gdt + 0x48 + 4], 0xEC00   ; present, DPL 3, 32-bit call gate, 0 params
  shr eax, 16
  mov [gdt + 0x48 + 6], ax
  push dword 0x2B
  push dword 0x6800
  push dword 0x23
  push dword user2
  retf
user2:
  mov [RES + 48], cs            ; 0x23
  call 0x4B:0
gate_target:
  mov [RES + 52], cs            ; 0x10
  mov eax, [esp + 4]
  mov [RES + 56], eax           ; pushed CS 0x23
  mov eax, [esp + 12]
  mov [RES + 60], eax           ; pushed SS 0x2B
  mov dword [RES + 64], 0xD0E
  cli
  hlt
gates_done: dd 0
