%include "prelude.inc"
; REP MOVS/STOS through the bulk path (flat segments, DF=0) must keep element semantics:
; a pattern fill through overlapping MOVSB, misaligned MOVSD across pages, and the progress
; registers at a #PF in the middle of a REP STOSD.
%define SRC 0x100000
%define DST 0x180000
test:
  ; 1. REP STOSB over 3 pages.
  mov edi, SRC
  mov ecx, 0x3000
  mov al, 0x11
  rep stosb
  mov eax, [SRC + 0x2FFC]
  mov [RES + 0], eax            ; 0x11111111
  mov eax, [SRC + 0x3000]
  mov [RES + 4], eax            ; 0 (untouched)
  ; 2. Overlapping forward MOVSB (destination one byte ahead): replicates the first byte.
  mov byte [DST], 0xAB
  mov esi, DST
  mov edi, DST + 1
  mov ecx, 0x2000
  rep movsb
  mov eax, [DST + 0x1FFD]
  mov [RES + 8], eax            ; 0xABABABAB
  mov eax, [DST + 0x2001]
  mov [RES + 12], eax           ; 0
  ; 3. Misaligned MOVSD across page boundaries, checked with REPE CMPSB.
  mov edi, SRC + 0x10000
  xor eax, eax
  mov ecx, 0x1000
.fill:
  stosd
  add eax, 0x01010101 + 7
  loop .fill
  mov esi, SRC + 0x10FFE
  mov edi, DST + 0x10FFD
  mov ecx, 0x600
  rep movsd
  mov [RES + 16], ecx           ; 0
  mov [RES + 20], esi           ; SRC + 0x10FFE + 0x1800
  mov esi, SRC + 0x10FFE
  mov edi, DST + 0x10FFD
  mov ecx, 0x1800
  repe cmpsb
  mov [RES + 24], ecx           ; 0: all equal
  ; 4. #PF in the middle of REP STOSD: ECX/EDI hold the progress, the handler resumes at .after.
  mov dword [0x20000], 0x21003
  mov edi, 0x21000
  mov eax, 3
  mov ecx, 1024
.map:
  stosd
  add eax, 0x1000
  loop .map
  mov dword [0x21000 + 0x161*4], 0      ; page 0x161000 not present
  mov eax, 0x20000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov dword [resume], .after
  mov edi, 0x160000
  mov ecx, 0x800
  mov eax, 0x5A5A5A5A
  rep stosd
.after:
  mov [RES + 28], ecx           ; 0x400 left
  mov [RES + 32], edi           ; 0x161000
  mov eax, [0x160FFC]
  mov [RES + 36], eax           ; 0x5A5A5A5A
  cli
  hlt
