%include "prelude.inc"
; External interrupts: the STI shadow, HLT with IF=1 (EXIT_HLT), then delivery after it;
; MMIO traps above RAM; port I/O traps.
test:
  mov dword [resume], 0
  mov eax, irq_handler
  mov [idt + 0x20*8], ax
  shr eax, 16
  mov [idt + 0x20*8 + 6], ax
  mov dword [RES + 0], 0
  sti
  hlt                           ; EXIT_HLT; the host then raises INTR
after_hlt:
  mov [RES + 4], eax            ; set by the handler
  cli
  mov eax, [0x7FF00010]         ; MMIO read (above RAM): trap returns 0xCAFEF00D
  mov [RES + 8], eax
  mov word [0x7FF00020], 0x1234 ; MMIO write
  mov dx, 0x3F8
  mov al, 0x41
  out dx, al                    ; PIO write
  in ax, dx                     ; PIO read (16-bit)
  mov [RES + 12], eax
  mov dword [RES + 16], 0xD0E
  hlt
irq_handler:
  mov eax, [esp]                ; return EIP
  mov [RES + 0], eax
  mov eax, 0x1111
  iret
