%include "prelude.inc"
; Self-modifying code through other linear addresses of the code's page. A store takes the
; direct path once its TLB entry grants it (the page held no translated code then); when the
; page comes to hold code, every such grant must be taken back, or a later patch through that
; address would leave the stale translation running. Patched through one alias (B: a grant to
; take back) and through two (B and C: more than one grant).
%define PD 0x20000
%define PT 0x21000
%define B 0x300000
%define C 0x301000
test:
  identity_map PT
  mov dword [PT + (B >> 12) * 4], code + 3     ; the code page again at B
  mov dword [PT + (C >> 12) * 4], code + 3     ; and at C
  paging_on PD, PT

  mov byte [B + 0x800], 1       ; a data write through B: B's entry grants direct writes
  xor esi, esi
  mov ecx, 10
.a:
  call code                     ; hot: translated, the page is code now
  add esi, eax
  dec ecx
  jnz .a
  mov dword [B + (site - code) + 1], 100        ; patch the immediate through B
  call code
  mov [RES + 0], eax            ; 100
  mov [RES + 4], esi            ; 10 * 7

  mov byte [C + 0x800], 2       ; now two grants: through B and through C
  mov byte [B + 0x801], 3
  mov ecx, 10
.b:
  call code
  dec ecx
  jnz .b
  mov dword [C + (site - code) + 1], 200        ; patch through C
  call code
  mov [RES + 8], eax            ; 200
  mov dword [B + (site - code) + 1], 300        ; and through B
  call code
  mov [RES + 12], eax           ; 300
  mov dword [RES + 16], 0xD0E
  cli
  hlt

align 4096
code:
site:
  mov eax, 7                    ; B8 imm32: the immediate is patched
  ret
