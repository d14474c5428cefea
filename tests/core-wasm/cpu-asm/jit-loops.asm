%include "prelude.inc"
; Region shapes (translate.ts finish): a function whose entry block runs before its loop (a
; structured wasm loop, entered through the dispatch over the blocks before it), and one with
; a loop inside a loop (two heads: the loop around a br_table). Each is called from a loop in
; another page, so its entry turns hot with the loop blocks seen.
test:
  xor eax, eax
  xor esi, esi
  mov edx, 40
.outer:
  call sum
  call nest
  dec edx
  jnz .outer
  mov [RES], eax
  mov [RES + 4], esi
  mov dword [RES + 0x40], 0xD0E
  cli
  hlt

align 4096
sum:                            ; EAX += 1 + (2 + 1): few turns, so the loop block is
                                ; still warm (in the region) when the entry turns hot
  mov ecx, 2
  add eax, 1
.l:
  add eax, ecx
  dec ecx
  jnz .l
  ret

nest:                           ; ESI += 5 * (4 + 3 + 2 + 1)
  mov ecx, 5
.o:
  mov ebx, 4
.i:
  add esi, ebx
  dec ebx
  jnz .i
  dec ecx
  jnz .o
  ret
