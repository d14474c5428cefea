%include "prelude.inc"
; A #PF in the middle of a translated block: the loop's load reaches a not-present page on
; its 4th iteration; the handler maps the page and returns to the load. The block's earlier
; instructions (INC ESI, the EDI computation) must stay done, its later ones (ADD EBP,
; INC EDX) not done before the fault nor done twice after it.
%define PD 0x20000
%define PT 0x21000              ; PT (0..4 MiB) and PT2 (4..8 MiB) are contiguous
%define PT2 0x22000
%define HOLE 0x500000           ; not present until the #PF handler maps it
test:
  mov eax, pf_handler
  mov [idt + 14*8], ax
  shr eax, 16
  mov [idt + 14*8 + 6], ax
  mov dword [0x4FFF40], 1
  mov dword [0x4FFF80], 2
  mov dword [0x4FFFC0], 4
  mov dword [HOLE + 0x00], 0x100
  mov dword [HOLE + 0x40], 0x200
  mov dword [HOLE + 0x80], 0x400
  mov edi, PT                   ; identity-map 0..8 MiB
  mov eax, 3
  mov ecx, 2048
.fill:
  stosd
  add eax, 0x1000
  loop .fill
  mov dword [PT2 + ((HOLE - 0x400000) >> 12) * 4], 0
  mov dword [PD], PT | 3
  mov dword [PD + 4], PT2 | 3
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax

  xor esi, esi
  xor edx, edx
  xor ebp, ebp
  mov eax, 0x5A5A
  mov ecx, 6
top:                            ; loads 0x4FFF40, 0x4FFF80, 0x4FFFC0, HOLE, HOLE+0x40, HOLE+0x80
  inc esi
  mov edi, esi
  shl edi, 6
fault_insn:
  mov eax, [edi + 0x4FFF00]
  add ebp, eax
  inc edx
  dec ecx
  jnz top
  mov [RES + 0x00], esi
  mov [RES + 0x04], edx
  mov [RES + 0x08], ebp
  mov [RES + 0x0C], eax
  mov dword [RES + 0x40], fault_insn
  mov dword [RES + 0x44], 0xD0E
  cli
  hlt

pf_handler:                     ; [esp] error code, EIP, CS, EFLAGS
  push eax
  mov eax, cr2
  mov [RES + 0x10], eax
  mov eax, [esp + 4]
  mov [RES + 0x14], eax         ; error code
  mov eax, [esp + 8]
  mov [RES + 0x18], eax         ; EIP
  mov eax, [esp]
  mov [RES + 0x1C], eax         ; EAX at the fault
  mov [RES + 0x20], esi
  mov [RES + 0x24], edi
  mov [RES + 0x28], ebp
  mov [RES + 0x2C], edx
  mov [RES + 0x30], ecx
  inc dword [RES + 0x34]        ; #PF count
  mov dword [PT2 + ((HOLE - 0x400000) >> 12) * 4], HOLE | 3
  pop eax
  add esp, 4
  iret
