%include "prelude.inc"
; Exceptions: #UD, #DE, #BP (trap: EIP after INT3), #GP with selector error codes, #NP,
; #SS, INTO/BOUND, a double fault (#NP while delivering #PF), then a triple fault.
test:
  mov dword [resume], .a
  ud2
.a:
  mov dword [resume], .b
  xor ecx, ecx
  div ecx
.b:
  mov dword [resume], .c
  int3
.c:
  mov dword [resume], .d
  mov ax, 0x1000                ; beyond the GDT limit: #GP(0x1000)
  mov ds, ax
.d:
  mov ax, 0x18
  mov ds, ax
  mov dword [resume], .e
  mov eax, 0x7FFFFFFF
  add eax, 1
  into                          ; #OF, trap
.e:
  mov dword [resume], .f
  mov eax, 5
  bound eax, [bounds]           ; #BR
.f:
  mov dword [resume], .g
  mov ax, 0x38                  ; code segment into SS: #GP(0x38)
  mov ss, ax
.g:
  ; not-present segment: clear P in the 16-bit data descriptor
  and byte [gdt + 0x40 + 5], 0x7F
  mov dword [resume], .h
  mov ax, 0x40
  mov es, ax                    ; #NP(0x40)
.h:
  ; double fault: #PF's gate not present -> #NP(0x72) during delivery -> #DF
  and byte [idt + 14*8 + 5], 0x7F
  mov dword [resume], .i
  mov eax, cr0
  mov dword [0x20000], 0x21003
  mov dword [0x21000], 3
  ; identity map first 4 MiB except page 0x400 region via a page table
  identity_map 0x21000
  mov dword [0x21000 + 0x100*4], 0      ; page 0x100000 not present
  mov eax, 0x20000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov eax, [0x100000]
.i:
  mov dword [RES], 0xD0E
  ; triple fault: #DF gate not present too
  and byte [idt + 8*8 + 5], 0x7F
  and byte [idt + 13*8 + 5], 0x7F
  and byte [idt + 11*8 + 5], 0x7F
  mov eax, [0x100000]
  hlt
bounds: dd 0, 4
