%include "prelude.inc"
; Written-page tracking (incremental snapshots): with paging on, the host clears the marks at
; each HLT (IF=0: run() returns EXIT_POWEROFF) and reads which pages were marked in between.
;   round 1: read 0x50000 (its PTE dirty and writable), read 0x51000 (its PTE never accessed:
;            the walk sets A in the page table at 0x21000), write 0x40000, REP STOSD at 0x60000,
;            a read-modify-write at 0x61000, a store crossing 0x62FFE..0x63001
;   round 2: write 0x50004 (the page read in round 1, whose TLB entry may still be filled)
;   round 3: nothing written: nothing marked
test:
  identity_map 0x21000
  or dword [0x21000 + 0x50 * 4], 0x60      ; 0x50000: accessed and dirty already
  and dword [0x21000 + 0x51 * 4], ~0x60    ; 0x51000: neither
  paging_on 0x20000, 0x21000
  hlt
  mov eax, [0x50000]
  mov eax, [0x51000]
  mov dword [0x40000], 1
  mov edi, 0x60000
  mov ecx, 16
  xor eax, eax
  cld
  rep stosd
  add dword [0x61000], 5
  mov dword [0x62FFE], 0x11223344
  hlt
  mov dword [0x50004], 2
  hlt
  hlt
