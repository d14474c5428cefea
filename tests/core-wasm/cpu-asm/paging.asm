%include "prelude.inc"
; Two-level paging: 4 KiB and 4 MiB pages, #PF error codes and CR2, A/D bits, CR0.WP,
; INVLPG, CR3 reloads keeping global pages.
%define PD 0x20000
%define PT 0x21000
test:
  identity_map PT
  mov edi, PD
  xor eax, eax
  mov ecx, 1024
  rep stosd
  mov dword [PD], PT | 3
  mov dword [PD + 2*4], 0x400000 | 0x87   ; linear 8 MiB -> phys 4 MiB, 4 MiB user page
  mov dword [PT + 0x50*4], 0x50000 | 1    ; page 0x50000 read-only
  mov dword [PT + 0x300*4], 0x300000 | 0x103 ; page 0x300000 global
  mov eax, cr4
  or eax, 0x90                  ; PSE | PGE
  mov cr4, eax
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax

  mov dword [0x800010], 0x12345678        ; through the 4 MiB page
  mov eax, [PD + 2*4]
  mov [RES + 0], eax                      ; PDE after the write: A and D set

  mov dword [resume], .r1
  mov eax, [0xC00123]                     ; PDE not present: #PF err 0, CR2
.r1:
  mov dword [resume], .r2
  mov dword [0x401000], 1                 ; PDE 1 not present, write: err 2
.r2:
  mov eax, [0x50004]                      ; read a read-only page: fine
  mov dword [0x50008], 0xAA55             ; WP=0: supervisor may write it
  mov eax, [PT + 0x50*4]
  mov [RES + 4], eax                      ; PTE: A and D set now
  mov eax, cr0
  or eax, 0x10000                         ; WP
  mov cr0, eax
  mov dword [resume], .r3
  mov dword [0x5000C], 0xBAD              ; #PF err 3 (present, write)
.r3:
  ; INVLPG: remap page 0x60000 to frame 0x61000
  mov dword [0x60000], 0x600
  mov dword [0x61000], 0x610
  mov eax, [0x60000]
  mov dword [PT + 0x60*4], 0x61000 | 3
  invlpg [0x60000]
  mov eax, [0x60000]
  mov [RES + 8], eax                      ; 0x610
  ; global page survives a CR3 reload, a PGE toggle flushes it
  mov dword [0x300000], 0x3000
  mov dword [0x301000], 0x3010
  mov eax, [0x300000]
  mov dword [PT + 0x300*4], 0x301000 | 0x103
  mov eax, cr3
  mov cr3, eax
  mov eax, [0x300000]
  mov [RES + 12], eax                     ; still 0x3000 (global TLB entry)
  mov eax, cr4
  and eax, ~0x80
  mov cr4, eax
  mov eax, [0x300000]
  mov [RES + 16], eax                     ; 0x3010
  ; page-crossing write where the second page is read-only: nothing written, err 3
  mov dword [0x4FFFC], 0x11111111
  mov dword [resume], .r4
  mov dword [0x4FFFE], 0x22222222
.r4:
  mov eax, [0x4FFFC]
  mov [RES + 20], eax                     ; 0x11111111
  mov dword [RES + 24], 0xD0E
  cli
  hlt
