// `node --import tsx bench/msix-traps.ts [--mib N] [--transports T,...]`: traps per MiB of a
// sequential virtio-blk read (dd if=/dev/vda of=/dev/null bs=1M count=N) on each virtio-pci
// transport, INTx vs MSI-X side by side. Three boards: the PIC-only default (bzImage, INTx via
// the 8259), the APIC board with INTx (bzImage-apic, level-triggered through the I/O APIC), and
// the APIC board with MSI-X (a vector per queue, no ISR read, one LAPIC EOI). Each figure is the
// difference between a boot that runs the dd and the same boot that does not (deterministic
// clock; the base run types the same command with count=0, so console echo and output cost the
// same). Traps are split into virtio registers, interrupt controllers (8259 ports, LAPIC and
// I/O APIC MMIO) and the rest (timer, serial). Figures only; nothing is asserted.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRANSPORTS as TRANSPORT_DEFS, deviceTypeWithRole } from "../devices/registry.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1]! : d);
const MIB = Number(opt("--mib", "16"));
const TRANSPORTS = opt("--transports", TRANSPORT_DEFS.filter((t) => t.bus === "pci").map((t) => t.name).join(",")).split(",");
const DISK = deviceTypeWithRole("disk")!.name;
const root = new URL("../", import.meta.url).pathname;

const BOARDS = [
  { name: "PIC, INTx", args: [], irq: "intx" },
  { name: "IO-APIC, INTx", args: ["--apic", "--kernel", "guest-images/bzImage-apic"], irq: "intx" },
  { name: "MSI-X", args: ["--apic", "--kernel", "guest-images/bzImage-apic"], irq: "msix" },
] as const;

interface RegionStats { name: string; reads: number; writes: number }
interface Stats {
  traps: { pio: number; mmio: number }; interrupts: number; instructions: number;
  virtio: Record<string, { traps: number; interrupts: number }>;
  ports: { regions: RegionStats[] }; mmio: { regions: RegionStats[] };
}
const CONTROLLERS = new Set(["pic-master", "pic-slave", "pic-elcr", "lapic", "ioapic"]);
const controllerTraps = (s: Stats) =>
  [...s.ports.regions, ...s.mmio.regions].filter((r) => CONTROLLERS.has(r.name)).reduce((a, r) => a + r.reads + r.writes, 0);

function run(args: string[], cmd: string): Stats {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", "--clock", "deterministic", "--stats", "--timeout", "600", ...args, "--cmd", cmd], { cwd: root, encoding: "utf8" });
  const last = r.stdout.trim().split("\n").pop()!;
  const s = JSON.parse(last) as Stats & { reason: string };
  if (s.reason !== "poweroff") throw new Error(`boot ended with ${s.reason}: ${r.stdout.slice(-2000)}`);
  return s;
}

const dir = mkdtempSync(join(tmpdir(), "vireo-msix-traps-"));
const img = join(dir, "disk.img");
writeFileSync(img, new Uint8Array(MIB << 20).map((_, i) => (i * 2654435761) >>> 24));
const table: Record<string, Record<string, string>> = {};
try {
  for (const t of TRANSPORTS) {
    table[t] = {};
    for (const b of BOARDS) {
      const args = [...b.args, "--device", `${DISK},transport=${t},image=${img},readonly,irq=${b.irq}`];
      const cmd = (n: number) => `dd if=/dev/vda of=/dev/null bs=1M count=${String(n).padStart(2, "0")}`;
      const base = run(args, cmd(0));
      const dd = run(args, cmd(MIB));
      const per = (f: (s: Stats) => number) => ((f(dd) - f(base)) / MIB).toFixed(1);
      const traps = per((s) => s.traps.pio + s.traps.mmio);
      const dev = per((s) => s.virtio["virtio-blk0"]!.traps);
      const ctl = per(controllerTraps);
      const ints = per((s) => s.interrupts);
      table[t]![b.name] = `${traps} (${dev} virtio, ${ctl} irq ctl; ${ints} irqs)`;
      console.error(`${t} ${b.name}: ${table[t]![b.name]}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\ntraps per MiB, dd bs=1M count=${MIB}: all traps (virtio registers, interrupt controllers; interrupts taken)\n`);
console.log(`| transport | ${BOARDS.map((b) => b.name).join(" | ")} |`);
console.log(`| --- | ${BOARDS.map(() => "---").join(" | ")} |`);
for (const t of TRANSPORTS) console.log(`| ${t} | ${BOARDS.map((b) => table[t]![b.name]).join(" | ")} |`);
