%include "prelude.inc"
; Task switching as Linux i386 uses it for #DF: a task gate in the IDT, the switch saves the
; interrupted state in the current TSS and runs the double-fault task with NT and a back link;
; also CALL to a TSS and IRET (NT=1) back.
test:
  mov ax, 0x30
  ltr ax
  ; second TSS at 0x48 for the called / double-fault task
  mov eax, tss2
  mov word [gdt + 0x48], 0x67
  mov [gdt + 0x48 + 2], ax
  shr eax, 16
  mov [gdt + 0x48 + 4], al
  mov byte [gdt + 0x48 + 5], 0x89
  mov [gdt + 0x48 + 7], ah
  mov dword [tss2 + 0x20], task_body
  mov dword [tss2 + 0x24], 2
  mov dword [tss2 + 0x38], 0xB000        ; ESP
  mov dword [tss2 + 0x4C], 0x10          ; CS
  mov dword [tss2 + 0x50], 0x18          ; SS
  mov dword [tss2 + 0x54], 0x18          ; DS
  mov dword [tss2 + 0x48], 0x18          ; ES
  mov eax, cr3
  mov [tss2 + 0x1C], eax
  mov ebx, 0x1234
  call 0x48:0                            ; CALL to a TSS
  mov [RES + 8], ebx                     ; the outgoing task's EBX came back: 0x1234
  pushf
  pop eax
  mov [RES + 12], eax                    ; NT clear after the IRET
  ; double fault through a task gate: #PF gate not present -> #NP -> #DF
  mov dword [tss2 + 0x20], df_body
  mov dword [tss2 + 0x38], 0xB000
  and byte [gdt + 0x48 + 5], ~2           ; available again
  mov word [idt + 8*8 + 2], 0x48          ; task gate: TSS selector
  mov byte [idt + 8*8 + 5], 0x85
  and byte [idt + 14*8 + 5], 0x7F
  identity_map 0x21000
  mov dword [0x21000 + 0x100*4], 0
  mov dword [0x20000], 0x21003
  mov eax, 0x20000
  mov cr3, eax
  mov [tss2 + 0x1C], eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov esi, 0x5151
faulting:
  mov eax, [0x100000]
  hlt

task_body:
  pushf
  pop eax
  mov [RES + 0], eax                     ; NT set
  movzx eax, word [tss2]
  mov [RES + 4], eax                     ; back link 0x30
  mov ebx, 0x9999
  iret                                   ; NT=1: back to the caller

df_body:
  pop eax
  mov [RES + 16], eax                    ; error code 0 pushed on the task's stack
  mov eax, [tss + 0x20]
  mov [RES + 20], eax                    ; interrupted EIP saved in the old TSS
  mov eax, [tss + 0x40]
  mov [RES + 24], eax                    ; interrupted ESI: 0x5151
  mov eax, cr2
  mov [RES + 28], eax                    ; 0x100000
  mov dword [RES + 32], 0xD0E
  cli
  hlt

align 8
tss2: times 104 db 0
