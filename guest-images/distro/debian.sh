#!/usr/bin/env bash
# A Debian 12 (bookworm) i386 distribution image for Vireo, from Debian's archive:
#   rootfs.img     ext4 file system (raw, sparse): debootstrap --variant=minbase + systemd-sysv,
#                  udev, Debian's 686 kernel and its modules (virtio, 9p, …), initramfs-tools
#   vmlinuz        that kernel (the CLI boots it directly: the board has no boot loader)
#   initrd.img     its initramfs, made in the image by Debian's own initramfs-tools
#   manifest.json  every installed package with its version, the mirror, sizes and sha256s
# The output is not committed (over 1 GiB): guest-images/debian/, or $VIREO_DISTRO_OUT.
#
# Why initramfs-tools and not a small initramfs of our own: the image is meant to be Debian as
# Debian ships it, so that `apt-get install`, kernel upgrades and `update-initramfs` inside the
# guest keep working; its initramfs is limited to the root disk's modules (MODULES=list) and
# gzip-compressed, so the host can check it before the guest runs.
#
# Usage: guest-images/build.sh --distro debian   (run as root; about 30 min on 2 loaded cores, most of it
#        dpkg under qemu-i386-static where the host kernel cannot run i386 programs)
# Needs: debootstrap, e2fsprogs (installed with apt-get when missing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${VIREO_DISTRO_OUT:-$(cd "$here/.." && pwd)/debian}
work=${VIREO_GUEST_WORK:-/var/tmp/vireo-guest}/debian
root=$work/root
mirror=${VIREO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${VIREO_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
suite=bookworm
size=${VIREO_DISTRO_SIZE:-1G}
# Snapshot mirrors are not reachable from every build machine, so the packages are whatever the
# mirror has today; the manifest records each one's version. The clock stamps are pinned.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600} # 2025-01-01T00:00:00Z
export LC_ALL=C TZ=UTC DEBIAN_FRONTEND=noninteractive
# Fixed identities, so two builds from the same packages differ only in what the packages do.
fs_uuid=3d6f1c2a-8b4e-4f7d-9a1c-5e2b7d9f0a63
fs_hash_seed=7a2c9e41-5b3d-4c6f-8e1a-2d4b6f8a0c35
machine_id=8f3b2a1c6d4e4f7a9b0c1d2e3f4a5b6c

die() { echo "build.sh --distro debian: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v arch-test >/dev/null || need+=(arch-test)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q || true
  apt-get install -y -q "${need[@]}"
fi

# debootstrap and the chroot run i386 programs. A host whose kernel cannot (an x86-64 kernel
# without IA32 emulation, another architecture) runs them under qemu-i386-static, registered
# with binfmt_misc; F makes the kernel open the interpreter now, so it works inside the chroot.
if ! arch-test i386 >/dev/null 2>&1; then
  command -v qemu-i386-static >/dev/null || apt-get install -y -q qemu-user-static
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-i386 ] || printf '%s' ':qemu-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-i386-static:F' \
    > /proc/sys/fs/binfmt_misc/register
  arch-test i386 >/dev/null 2>&1 || die "this host cannot run i386 programs, even under qemu-i386-static"
  echo "(i386 programs run under qemu-i386-static: slower)"
fi

mounted=()
cleanup() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { mount "$@"; mounted+=("${@: -1}"); }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C TZ=UTC \
  DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"; }

start=$(date +%s)
# A build killed half-way may have left /proc, /sys or /dev bound inside: never delete through them.
grep -q " $work/" /proc/mounts && die "something is still mounted under $work (see /proc/mounts): unmount it first"
rm -rf --one-file-system "$work"
mkdir -p "$work" "$out"
echo "== debootstrap $suite i386 minbase from $mirror"
debootstrap --arch=i386 --variant=minbase --include=systemd-sysv,udev "$suite" "$root" "$mirror"

bind -t proc proc "$root/proc"
bind -t sysfs sysfs "$root/sys"
bind --bind /dev "$root/dev"
bind --bind /dev/pts "$root/dev/pts"

cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# Nothing started inside the chroot by a package's maintainer script.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# Vireo's files (getty autologin, DHCP, initramfs settings, fstab) before the kernel is
# installed, so that its initramfs is made once, with them.
cp -a "$here/debian-root/." "$root/"

echo "== apt-get: security updates, the 686 kernel, initramfs-tools, dbus"
in_root apt-get update -q
apt_opts=(-y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef)
in_root apt-get "${apt_opts[@]}" dist-upgrade
# dbus and libpam-systemd: systemd-logind (D-Bus activated) and a session for the console login,
# so systemctl poweroff/reboot ask logind as on any Debian system ("Failed to connect to bus" without).
in_root apt-get "${apt_opts[@]}" install --no-install-recommends linux-image-686 initramfs-tools dbus libpam-systemd

echo "== configure"
# systemd-networkd for a NIC; its wait-online service would fail (and the system be "degraded")
# on a board with no NIC, and nothing in this image waits for network-online.target.
in_root systemctl enable systemd-networkd.service
in_root systemctl disable systemd-networkd-wait-online.service
# A fixed machine id: the image is not "first boot" (systemd-firstboot would prompt on the console).
echo "$machine_id" > "$root/etc/machine-id"
# root logs in only through the autologin gettys; no password for su or sudo is ever asked.
in_root passwd -d root >/dev/null
rm -f "$root/usr/sbin/policy-rc.d"
in_root apt-get clean
# The package lists stay: `apt list --installed`, `apt show` and `apt-cache policy` work offline.

kver=$(ls "$root/lib/modules")
[ "$(wc -w <<< "$kver")" = 1 ] || die "expected one kernel in the image, found: $kver"
in_root update-initramfs -u -k "$kver"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
# (The whole listing first: grep -q would close the pipe early, and pipefail take cpio's SIGPIPE for a failure.)
listing=$(zcat "$out/initrd.img" | cpio -t --quiet)
grep -q '/virtio_blk\.ko$' <<< "$listing" || die "the initramfs has no virtio_blk module"

# The manifest: every package and version as dpkg records them.
in_root dpkg-query -W -f='${Package}:${Architecture}\t${Version}\n' | LC_ALL=C sort > "$work/packages.tsv"

cleanup
mounted=()
echo "== ext4 image ($size)"
rm -f "$out/rootfs.img"
# The image's clock stamps: the file system's own (E2FSPROGS_FAKE_TIME), not its files'.
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext4 -L debian-root -U "$fs_uuid" \
  -E "hash_seed=$fs_hash_seed,root_owner=0:0" -d "$root" "$out/rootfs.img" "$size"

node -e '
  const fs = require("fs"), crypto = require("crypto"), path = require("path");
  const [out, pkgs, kver, mirror, security, suite, seconds] = process.argv.slice(1);
  const sha = (f) => { const h = crypto.createHash("sha256"); const fd = fs.openSync(f, "r"); const b = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, b, 0, b.length, null)) > 0;) h.update(b.subarray(0, n)); fs.closeSync(fd); return h.digest("hex"); };
  const packages = {};
  for (const line of fs.readFileSync(pkgs, "utf8").split("\n").filter(Boolean)) { const [p, v] = line.split("\t"); packages[p] = v; }
  const images = {};
  for (const f of ["rootfs.img", "vmlinuz", "initrd.img"]) images[f] = { sha256: sha(path.join(out, f)), size: fs.statSync(path.join(out, f)).size };
  const manifest = {
    distribution: `Debian 12 (${suite}) i386`, kernel: kver, mirror, security,
    source_date: new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString(),
    built: new Date().toISOString(), build_seconds: Number(seconds), images, packages,
  };
  fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
' "$out" "$work/packages.tsv" "$kver" "$mirror" "$security" "$suite" "$(( $(date +%s) - start ))"
# The page streams rootfs.img by chunks this manifest names (npm run disk-manifest).
(cd "$here/../.." && node --import tsx scripts/disk-manifest.ts "$out/rootfs.img")
rm -rf --one-file-system "$work"
echo "built $out: kernel $kver in $(( $(date +%s) - start )) s"
