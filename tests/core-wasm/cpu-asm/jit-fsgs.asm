%include "prelude.inc"
; FS and GS with a base, as a flat-model OS uses them for thread- and CPU-local data: a hot
; loop reads, writes and read-modify-writes through both; translated accesses add the base.
; Then an offset that runs past 4 GiB: #GP(0) on the CPU even though base + offset (wrapped)
; is mapped RAM, so the load must not happen.
%define BASE 0x300010               ; not page-aligned: base + 0xFFFFFFFE stays in one page
test:
  mov dword [gdt + 0x48], 0xFFFF | ((BASE & 0xFFFF) << 16)  ; data, base BASE, limit 4 GiB, writable
  mov dword [gdt + 0x4C], 0x00CF9200 | ((BASE >> 16) & 0xFF)
  mov ax, 0x48
  mov fs, ax
  mov gs, ax
  mov dword [BASE + 0x100], 5
  mov dword [BASE - 2], 0x0BADF00D        ; where fs:0xFFFFFFFE would land, wrapped
  xor ecx, ecx
.loop:
  mov eax, [fs:0x100]
  add eax, ecx
  mov [gs:0x104 + ecx*4], eax
  add [fs:0x200], eax
  inc ecx
  cmp ecx, 10
  jb .loop
  mov dword [resume], after
  mov ebx, 0x1000
  mov ecx, 10
  mov eax, 0x1111
.wrap:                                    ; the 10th iteration reads fs:0xFFFFFFFE
  cmp ecx, 1
  jne .near
  mov ebx, 0xFFFFFFFE
.near:
  mov eax, [fs:ebx]
  mov eax, 0x1111
  dec ecx
  jnz .wrap
after:
  mov [RES + 0x00], eax
  mov eax, [BASE + 0x200]
  mov [RES + 0x04], eax
  mov eax, [BASE + 0x104 + 9*4]
  mov [RES + 0x08], eax
  mov eax, [LOG]
  mov [RES + 0x0C], eax
  mov eax, [LOG + 4]
  mov [RES + 0x10], eax
  mov eax, [LOG + 8]
  mov [RES + 0x14], eax
  mov [RES + 0x18], ecx
  mov dword [RES + 0x44], 0xD0E
  cli
  hlt
