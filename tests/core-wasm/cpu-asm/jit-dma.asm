%include "prelude.inc"
; Code changed from outside the CPU (DMA): the host rewrites fn's immediate between rounds.
; Each round calls fn a few times (hot), stores what it returned and halts with IF=1.
test:
  mov dword [RES + 8], fn
.round:
  mov ecx, 5
.call:
  call fn
  dec ecx
  jnz .call
  mov [RES + 0], eax
  inc dword [RES + 4]
  sti
  hlt                           ; EXIT_HLT: the host patches fn, then runs again
  cli
  jmp .round

align 4096                      ; a page of its own: nothing the CPU writes
fn:
  mov eax, 0x1111               ; B8 imm32: the host rewrites bytes fn+1..fn+4
  ret
