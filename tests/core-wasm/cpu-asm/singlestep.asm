%include "prelude.inc"
; Single-step (EFLAGS.TF) traps, SDM Vol. 3 §17.3.1.4 and §6.8.3: a #DB trap after each
; instruction that starts with TF set (not after the POPF that sets it; after the one that
; clears it); after each iteration of a REP string instruction, with EIP still on it while
; iterations remain; none after MOV SS / POP SS (the trap waits for the instruction after it);
; one after STI (its shadow holds back interrupts only). The #DB handler logs the pushed EIP,
; ECX, DR6 and the pushed EFLAGS at DBLOG (16 bytes each, count at RES), then clears DR6.BS.
; RES+4.. hold the addresses the expected EIPs are taken from (the labels, in order).
%define DBLOG 0x8900
%define TF 0x100

test:
  mov eax, db_handler           ; vector 1: our handler, which returns instead of halting
  mov [idt + 8], ax
  shr eax, 16
  mov [idt + 8 + 6], ax
  mov dword [RES], 0
  mov eax, dr6
  mov [RES + 0x44], eax         ; DR6 before any debug exception
  mov dword [RES + 4], r1
  mov dword [RES + 8], r1end
  mov dword [RES + 12], r2end
  mov dword [RES + 16], m1
  mov dword [RES + 20], m2
  mov dword [RES + 24], r3
  mov dword [RES + 28], r3end
  mov dword [RES + 32], s1
  mov dword [RES + 36], s2
  mov dword [RES + 40], s3
  mov dword [RES + 44], s4
  mov dword [RES + 48], s5
  mov dword [RES + 52], s6
  mov dword [RES + 56], s7
  mov dword [RES + 60], s8
  mov esi, srcbuf
  mov edi, dstbuf
  mov ecx, 3
  cld
  pushfd
  or dword [esp], TF
  popfd                         ; sets TF: no trap after it
r1:
  rep movsb                     ; traps: EIP r1 (ECX 2), r1 (ECX 1), r1end (ECX 0)
r1end:
  rep stosb                     ; ECX 0: no iteration, one trap, EIP r2end
r2end:
  mov ecx, 4
m1:
  mov esi, cmpa
m2:
  mov edi, cmpb
r3:
  repe cmpsb                    ; stops at the second byte (differs): traps at r3 (ECX 3), r3end (ECX 2)
r3end:
  mov ax, ss
s1:
  mov ss, ax                    ; no trap here ...
  inc ebx                       ; ... one after this, EIP s2
s2:
  push ss
s3:
  pop ss                        ; no trap here ...
  nop                           ; ... one after this, EIP s4
s4:
  cli
s5:
  sti                           ; a trap after STI, EIP s6
s6:
  nop
s7:
  pushfd
  and dword [esp], ~TF
  popfd                         ; clears TF: still a trap after it (TF was set when it began), EIP s8
s8:
  nop                           ; no more traps
  mov dword [RES + 0x48], 0xd0e
  cli
  hlt

db_handler:
  push eax
  push ebx
  mov ebx, [RES]
  shl ebx, 4
  mov eax, [esp + 8]            ; pushed EIP
  mov [DBLOG + ebx], eax
  mov [DBLOG + ebx + 4], ecx
  mov eax, dr6
  mov [DBLOG + ebx + 8], eax
  mov eax, [esp + 16]           ; pushed EFLAGS
  mov [DBLOG + ebx + 12], eax
  mov eax, 0xFFFF0FF0           ; clear BS for the next trap
  mov dr6, eax
  inc dword [RES]
  pop ebx
  pop eax
  iret

srcbuf: db 1, 2, 3, 4
dstbuf: db 0, 0, 0, 0
cmpa: db 1, 2, 3, 4
cmpb: db 1, 9, 9, 9
