%include "prelude.inc"
; Code changed from outside the CPU (DMA): the host rewrites fn's immediate between rounds.
; Each round calls fn a few times (hot), stores what it returned and halts with IF=0: run()
; returns EXIT_POWEROFF and the host runs it again. (Not an idle HLT with IF=1: the run after
; one of those is interpreted, run.ts lastRunHalted, and would not show the stale block.)
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
  hlt                           ; EXIT_POWEROFF: the host patches fn, then runs again
  jmp .round

align 4096                      ; a page of its own: nothing the CPU writes
fn:
  mov eax, 0x1111               ; B8 imm32: the host rewrites bytes fn+1..fn+4
  ret
