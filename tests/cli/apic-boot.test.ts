// Headless boots of the APIC board (--apic: local APIC, I/O APIC, MP table) through the real
// CLI with the deterministic clock. What must hold comes from the guest kernel itself: it found
// the MP table, routed the PIT (ISA IRQ0, I/O APIC pin 2) and COM1 (IRQ4) through the I/O APIC,
// and its local APIC timer ticks; the PIC-only default kernel still boots on the same board
// (virtual-wire mode through LINT0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, outputOf } from "./virtio-boot.ts";

test("bzImage-apic on the APIC board: IO-APIC lines for the timer and the serial port, LAPIC timer ticks, level INTx", () => {
  // INTx through the I/O APIC, level-triggered: a virtio-pci rng in slot 1 (INTA# → PIRQB → pin
  // 17) and a virtio-mmio rng on ISA IRQ 5, which the MP table declares level, active high.
  const cmds = ["head -c 4096 /dev/hwrng | wc -c", "cat /proc/interrupts", "sleep 1; grep LOC /proc/interrupts"];
  const r = boot([
    "--kernel", "guest-images/bzImage-apic", "--apic", "--clock", "deterministic", "--stats",
    "--device", "rng,transport=pci-modern", "--device", "rng,transport=mmio-v2",
    ...cmds.flatMap((c) => ["--cmd", c]),
  ]);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
  assert.match(r.out, /found SMP MP-table at \[mem 0x000f0000-0x000f000f\]/);
  assert.match(r.out, /IOAPIC\[0\]: apic_id 1, version 17, address 0xfec00000, GSI 0-23/);
  assert.match(r.out, /\.\.TIMER: vector=0x[0-9a-f]+ apic1=0 pin1=2/);
  assert.doesNotMatch(r.out, /APIC timer disabled|timer doesn't work|IO-APIC \+ timer doesn't work/);
  assert.equal(outputOf(r.out, cmds[0]!), "4096\n");
  const irqs = outputOf(r.out, cmds[1]!);
  assert.match(irqs, /^ +0: +\d+ +IO-APIC +2-edge +timer$/m);
  assert.match(irqs, /^ +4: +\d+ +IO-APIC +4-edge +ttyS0$/m);
  assert.match(irqs, /^ +5: +[1-9]\d* +IO-APIC +5-fasteoi +virtio\d$/m);
  assert.match(irqs, /^ +\d+: +[1-9]\d* +IO-APIC +17-fasteoi +virtio\d$/m);
  const loc0 = Number(irqs.match(/^LOC: +(\d+)/m)![1]);
  const loc1 = Number(outputOf(r.out, cmds[2]!).match(/^LOC: +(\d+)/m)![1]);
  assert.ok(loc1 > loc0, `local APIC timer interrupts advance (${loc0} -> ${loc1})`);
  const stats = JSON.parse(r.out.trim().split("\n").pop()!);
  assert.equal(stats.reason, "poweroff");
  // The spin-waits of the APIC timer checks cost time, not instructions (session.ts, EXIT_PAUSE).
  assert.ok(stats.instructions < 150e6, `instructions: ${stats.instructions}`);
});

test("the PIC-only default kernel boots on the APIC board (8259 through LINT0 in virtual-wire mode)", () => {
  // Its virtio-pci disk offers MSI-X, which a kernel without PCI MSI ignores: INTx on the 8259.
  const dir = mkdtempSync(join(tmpdir(), "vireo-apic-"));
  try {
    const image = join(dir, "disk.img");
    const bytes = randomBytes(1 << 20);
    writeFileSync(image, bytes);
    const cmds = ["cat /proc/interrupts", "md5sum /dev/vda"];
    const r = boot(["--apic", "--clock", "deterministic", "--device", `blk,transport=pci-modern,image=${image},irq=msix`, ...cmds.flatMap((c) => ["--cmd", c])]);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
    const irqs = outputOf(r.out, cmds[0]!);
    assert.match(irqs, /^ +0: +\d+ +XT-PIC +timer$/m);
    assert.match(irqs, /^ +4: +\d+ +XT-PIC +ttyS0$/m);
    assert.match(irqs, /^ +11: +\d+ +XT-PIC +virtio0$/m);
    assert.equal(outputOf(r.out, cmds[1]!), `${createHash("md5").update(bytes).digest("hex")}  /dev/vda\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
