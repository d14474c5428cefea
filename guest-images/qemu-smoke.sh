#!/usr/bin/env bash
# Boots the default guest under QEMU (TCG) with virtio devices on every transport Vireo
# models, and checks the guest binds them: a reference that the *guest* is right,
# independent of our emulator. A developer tool, not part of `npm test`.
#
#   guest-images/qemu-smoke.sh [bzImage|bzImage-apic]
#
# Needs qemu-system-x86 (apt-get install qemu-system-x86).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel=$here/${1:-bzImage} # for the PC machine; microvm always boots bzImage-apic
initrd=$here/initramfs.cpio.gz
qemu=$(command -v qemu-system-i386) || { echo "qemu-smoke: install qemu-system-x86" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT
truncate -s 4M "$tmp/disk.img"

# boot NAME EXPECT-REGEX -- QEMU ARGS...: boot, wait for the ready line, list the virtio bus
# with each device's driver and (for PCI) its device id, power off, and grep the transcript.
boot() {
  local name=$1 expect=$2; shift 3
  local log=$tmp/$name.log fifo=$tmp/$name.in
  mkfifo "$fifo"
  "$qemu" -accel tcg -m 128 -nographic -no-reboot -serial stdio -monitor none \
    -initrd "$initrd" "$@" < "$fifo" > "$log" 2>&1 &
  local pid=$!
  exec 9> "$fifo"
  local t=0
  until grep -q "vireo-guest: ready" "$log"; do
    sleep 0.5; t=$((t + 1))
    if [ $t -gt 120 ] || ! kill -0 $pid 2>/dev/null; then
      echo "FAIL $name: no ready line"; tail -20 "$log"; kill $pid 2>/dev/null; exec 9>&-; return 1
    fi
  done
  sleep 1
  printf '%s\n' \
    'for d in /sys/bus/virtio/devices/*; do echo "VDEV $(basename $d) id=$(cat $d/device) drv=$(basename $(readlink $d/driver)) parent=$(basename $(readlink -f $d/..))"; done' \
    'for p in /sys/bus/pci/devices/*; do echo "PCIDEV $(cat $p/vendor):$(cat $p/device)"; done' \
    'poweroff -f' >&9
  # Without ACPI, `poweroff -f` ends in cli; hlt: QEMU keeps running, so stop it ourselves.
  t=0
  until grep -q "System halted" "$log" || [ $t -gt 60 ]; do sleep 0.5; t=$((t + 1)); done
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  exec 9>&-
  if grep -Eq "$expect" "$log" && ! grep -q "drv=driver" "$log"; then
    echo "ok   $name"; grep -E "^VDEV|^PCIDEV 0x1af4" "$log" | tr -d '\r' | sed 's/^/     /'
  else
    echo "FAIL $name"; tail -30 "$log"; return 1
  fi
}

common="console=ttyS0 panic=-1"
fail=0
# virtio-pci: blk legacy-only (0x1001), rng modern-only (0x1044), console transitional (0x1003).
boot pci "PCIDEV 0x1af4:0x1001" -- -M pc -kernel "$kernel" -append "$common" \
  -drive file="$tmp/disk.img",format=raw,if=none,id=d0 \
  -device virtio-blk-pci,drive=d0,disable-modern=on \
  -device virtio-rng-pci,disable-legacy=on \
  -device virtio-serial-pci || fail=1
grep -q "PCIDEV 0x1af4:0x1044" "$tmp/pci.log" && grep -q "PCIDEV 0x1af4:0x1003" "$tmp/pci.log" \
  && [ "$(grep -c '^VDEV.*drv=virtio_' "$tmp/pci.log")" -eq 3 ] || { echo "FAIL pci: not all three bound"; fail=1; }

# virtio-mmio version 1 (legacy) and version 2, on the microvm machine, which puts the
# virtio_mmio.device= parameters on the kernel command line itself. microvm wires every
# interrupt through its I/O APIC, so these boots need the APIC variant of the kernel.
for v in 1 2; do
  legacy=$([ $v = 1 ] && echo true || echo false)
  boot "mmio-v$v" "VDEV virtio[0-9] id=0x0002 drv=virtio_blk" -- \
    -M microvm,acpi=off,pic=on,pit=on,rtc=on,isa-serial=on,x-option-roms=off \
    -global virtio-mmio.force-legacy=$legacy -kernel "$here/bzImage-apic" -append "$common" \
    -drive file="$tmp/disk.img",format=raw,if=none,id=d0 \
    -device virtio-blk-device,drive=d0 \
    -device virtio-rng-device || fail=1
done
exit $fail
