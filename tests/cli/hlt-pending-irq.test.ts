// Regression: an interrupt that became pending while the guest had IF=0 must wake `sti; hlt`
// at once. The run loop used to sleep until the next timer deadline instead — on a tickless
// idle Linux there is none, so the guest stalled until a keystroke (seen in the page as a
// `head -c 4096 /dev/hwrng` that hung now and then). This guest arms the PIT once (mode 0),
// spins with IF=0 until the PIC has latched IRQ0, then does `sti; hlt` with no deadline left.
// Assembled with nasm at test time (skipped without it), wrapped in a minimal bzImage header,
// and booted by the real CLI with a timeout, so the old behaviour fails instead of hanging.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;
let nasm = true;
try { execFileSync("nasm", ["-v"]); } catch { nasm = false; }

const GUEST = `
bits 32
org 0x100000
  cli
  lgdt [gdtr]
  mov esp, 0x90000
  mov eax, irq0                  ; IDT gate 0x20 -> irq0
  mov [idt + 0x20*8], ax
  mov word [idt + 0x20*8 + 2], 0x10
  mov word [idt + 0x20*8 + 4], 0x8E00
  shr eax, 16
  mov [idt + 0x20*8 + 6], ax
  lidt [idtr]
  mov al, 0x11                   ; PIC: vectors 0x20/0x28, only IRQ0 unmasked
  out 0x20, al
  mov al, 0x20
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x01
  out 0x21, al
  mov al, 0x11
  out 0xA0, al
  mov al, 0x28
  out 0xA1, al
  mov al, 0x02
  out 0xA1, al
  mov al, 0x01
  out 0xA1, al
  mov al, 0xFE
  out 0x21, al
  mov al, 0xFF
  out 0xA1, al
  mov al, 0x30                   ; PIT channel 0, mode 0: one interrupt, then no deadline
  out 0x43, al
  mov al, 0x00
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  mov al, 0x0A                   ; OCW3: reads return IRR
  out 0x20, al
.spin:                           ; IF=0 until IRQ0 is pending
  in al, 0x20
  test al, 1
  jz .spin
  sti                            ; (nothing printed before: console output makes the CLI kick the worker awake)
  hlt                            ; in STI's shadow: must wake for the pending IRQ0
  mov esi, msg_woke
  call puts
  cli
  hlt                            ; HLT with IF=0: power off
irq0:
  push eax
  push esi
  mov esi, msg_irq
  call puts
  mov al, 0x20                   ; EOI
  out 0x20, al
  pop esi
  pop eax
  iret
puts:
  lodsb
  test al, al
  jz .done
  mov dx, 0x3F8
  out dx, al
  jmp puts
.done:
  ret
msg_irq: db "irq0 taken", 10, 0
msg_woke: db "woke", 10, 0
align 8
gdt: dq 0, 0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF
gdtr: dw 31
  dd gdt
idtr: dw 0x21*8 - 1
  dd idt
idt: times 0x21*8 db 0
`;

/** A bzImage (boot protocol 2.15) whose protected-mode part is `code`, loaded at 1 MiB. */
function bzImage(code: Uint8Array): Uint8Array {
  const setup = 1024; // setup_sects = 1, plus the boot sector
  const img = new Uint8Array(Math.max(0x1000, setup + code.length));
  const v = new DataView(img.buffer);
  img[0x1f1] = 1;
  v.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb; // jmp over the header, whose length the jump gives
  img[0x201] = 0x66;
  img.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  v.setUint16(0x206, 0x020f, true);
  img[0x211] = 0x01; // LOADED_HIGH
  v.setUint32(0x214, 0x100000, true); // code32_start
  v.setUint32(0x22c, 0x37ffffff, true); // initrd_addr_max
  v.setUint32(0x238, 2048, true); // cmdline_size
  v.setBigUint64(0x258, 0x100000n, true); // pref_address
  v.setUint32(0x260, 0x100000, true); // init_size
  img.set(code, setup);
  return img;
}

test("a pending interrupt wakes sti;hlt when no timer deadline is left", { skip: nasm ? false : "nasm is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-hlt-"));
  try {
    writeFileSync(join(dir, "guest.asm"), GUEST);
    execFileSync("nasm", ["-f", "bin", "-o", join(dir, "guest.bin"), join(dir, "guest.asm")]);
    writeFileSync(join(dir, "bzImage"), bzImage(new Uint8Array(readFileSync(join(dir, "guest.bin")))));
    for (const clock of ["deterministic", "realtime"]) {
      const r = spawnSync(process.execPath, [
        "--import", "tsx", "cli/boot.ts", "--kernel", join(dir, "bzImage"), "--initrd", "none",
        "--mem", "16", "--clock", clock, "--timeout", "10", "--expect", "woke",
      ], { cwd: root, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `${clock}: exit ${r.status}\n${r.stderr}\n${r.stdout}`);
      assert.match(r.stdout, /irq0 taken\nwoke\n/, clock);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
