#!/usr/bin/env bash
# Reproducible build of Vireo's default guest from Debian packages:
#   bzImage            Linux 6.1 i386: tinyconfig + config/{virtio-i386,userland}.fragment
#   bzImage-apic       the same + config/apic.fragment (local APIC, I/O APIC, PCI MSI)
#   initramfs.cpio.gz  busybox-static:i386 + initramfs/init
#   data-ext2.img.gz   an empty 64 MiB ext2 file system: the page's default data disk
#   manifest.json      versions, config and image sha256, sizes
#
# Usage: guest-images/build.sh              build everything (about 30 min on a loaded 2-core machine)
#        guest-images/build.sh --check      verify the committed images against manifest.json
#        guest-images/build.sh --deps       apt-get install what the build needs, then build
#        guest-images/build.sh --data-disk  rebuild only data-ext2.img.gz (seconds, no kernel)
#        guest-images/build.sh --distro debian   a Debian 12 i386 systemd image in guest-images/debian/
#                                           (not part of the default build, not committed: distro/debian.sh)
# The work tree lives in $VIREO_GUEST_WORK (default /var/tmp/vireo-guest): a fixed absolute
# path, so nothing path-dependent can leak into the images.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${VIREO_GUEST_WORK:-/var/tmp/vireo-guest}
# gcc-multilib: kconfig sets CONFIG_CC_CAN_LINK(_STATIC) only if gcc can link a 32-bit program,
# and the config is built into the kernel (IKCONFIG), so without it the images differ.
# qemu-user-static: the i386 busybox is asked for its applet list under qemu-i386-static on every
# host, whether or not the host kernel runs 32-bit programs itself.
deps=(linux-source-6.1 busybox-static:i386 gcc gcc-multilib make bc flex bison libelf-dev cpio xz-utils
  e2fsprogs gzip qemu-user-static)
# The packages whose contents become the images, held at the versions they were built from: an
# unrelated apt-get install may otherwise move linux-source-6.1 to the newest security release.
# Moving a pin is a deliberate change: rebuild, and re-measure what the README derives from them.
declare -A pinned=([linux-source-6.1]=6.1.176-1 [busybox-static:i386]=1:1.35.0-4+deb12u1+b1)

# Everything that would otherwise stamp the build machine or the time into the images.
export SOURCE_DATE_EPOCH=1735689600 # 2025-01-01T00:00:00Z
export KBUILD_BUILD_TIMESTAMP="2025-01-01 00:00:00 UTC"
export KBUILD_BUILD_USER=vireo KBUILD_BUILD_HOST=vireo KBUILD_BUILD_VERSION=1
export LC_ALL=C TZ=UTC

die() { echo "build.sh: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

check() {
  node -e '
    const fs = require("fs"), crypto = require("crypto"), path = require("path");
    const dir = process.argv[1];
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    let bad = 0;
    for (const [name, want] of Object.entries(m.images)) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) { console.log(`MISSING ${name}`); bad++; continue; }
      const buf = fs.readFileSync(file);
      const got = crypto.createHash("sha256").update(buf).digest("hex");
      const ok = got === want.sha256 && buf.length === want.size;
      console.log(`${ok ? "ok     " : "CHANGED"} ${name} ${buf.length} ${got}`);
      if (!ok) bad++;
    }
    process.exit(bad ? 1 : 0);
  ' "$here"
}

# The data disk: every input mke2fs would otherwise take from the clock or /dev/urandom is
# fixed (UUID, directory hash seed, timestamps), so the image is bit-identical on every run with
# the same e2fsprogs and gzip. 256-byte inodes: 128-byte ones cannot hold dates past 2038.
data_uuid=5f0d7c1e-3b8a-4c2e-9a61-7e2b6d4f8a10
data_hash_seed=0b7c6a52-9d3e-4f1a-8c2b-51e0a9d3c7f4
build_data_disk() {
  echo "== data disk"
  local img=$work/data-ext2.img
  mkdir -p "$work"
  rm -f "$img"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext2 -L vireo-data -I 256 -m 0 \
    -U "$data_uuid" -E "hash_seed=$data_hash_seed,root_owner=0:0" "$img" 64M
  gzip -9 -n -c "$img" > "$here/data-ext2.img.gz"
  rm -f "$img"
}

# Record the data disk alone in manifest.json (--data-disk), leaving the kernel entries as built.
record_data_disk() {
  node -e '
    const fs = require("fs"), crypto = require("crypto"), path = require("path");
    const [dir, e2fs, gz] = process.argv.slice(1);
    const file = path.join(dir, "manifest.json");
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    const buf = fs.readFileSync(path.join(dir, "data-ext2.img.gz"));
    m.packages = { ...m.packages, e2fsprogs: e2fs, gzip: gz };
    m.images["data-ext2.img.gz"] = { sha256: crypto.createHash("sha256").update(buf).digest("hex"), size: buf.length };
    fs.writeFileSync(file, JSON.stringify(m, null, 2) + "\n");
  ' "$here" "$(pkgver e2fsprogs)" "$(pkgver gzip)"
}

case "${1:-}" in
  --check) check; exit ;;
  --distro)
    [ "${2:-}" = debian ] || die "--distro takes the name of a distribution: debian"
    exec "$here/distro/debian.sh" ;;
  --data-disk)
    command -v mke2fs >/dev/null || die "mke2fs not found (apt-get install e2fsprogs)"
    build_data_disk
    record_data_disk
    check
    exit ;;
  --deps)
    dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
    apt-get update -q || true # a mirror mid-sync fails one index; the rest is still usable
    wanted=()
    for p in "${deps[@]}"; do wanted+=("$p${pinned[$p]:+=${pinned[$p]}}"); done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades "${wanted[@]}" ;;
  "") ;;
  *) die "unknown option '$1' (use --check, --deps, --data-disk or --distro debian)" ;;
esac

missing=()
for p in "${deps[@]}"; do [ -n "$(pkgver "$p")" ] || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] || die "missing Debian packages: ${missing[*]} (run: guest-images/build.sh --deps)"
for p in "${!pinned[@]}"; do
  [ "$(pkgver "$p")" = "${pinned[$p]}" ] ||
    die "$p is $(pkgver "$p"), the images are built from ${pinned[$p]} (run: guest-images/build.sh --deps)"
done

# Same reason as gcc-multilib above: a compiler that cannot link 32-bit code changes the config.
echo 'int main(void) { return 0; }' | gcc -m32 -static -x c - -o /dev/null 2>/dev/null ||
  die "gcc -m32 -static cannot link a program (gcc-multilib): the kernel config would lack CONFIG_CC_CAN_LINK_STATIC"

src_tar=/usr/src/linux-source-6.1.tar.xz
src_ver=$(pkgver linux-source-6.1)
bb_ver=$(pkgver busybox-static:i386)
src=$work/linux-source-6.1
mkdir -p "$work"
if [ "$(cat "$work/.source-version" 2>/dev/null)" != "$src_ver" ]; then
  echo "unpacking linux-source-6.1 $src_ver into $work"
  rm -rf "$src"
  tar -C "$work" -xf "$src_tar"
  echo "$src_ver" > "$work/.source-version"
fi

# Fail loudly if a fragment option did not land: kconfig silently drops typos and options
# whose dependencies are missing. Later fragments override earlier ones, as in merge_config.sh.
verify_config() {
  local config=$1; shift
  local -A want=() from=()
  local frag line opt bad=0
  for frag in "$@"; do
    while IFS= read -r line; do
      if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
        want[${BASH_REMATCH[1]}]=$line; from[${BASH_REMATCH[1]}]=$(basename "$frag")
      elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
        want[${BASH_REMATCH[1]}]=off; from[${BASH_REMATCH[1]}]=$(basename "$frag")
      fi
    done < "$frag"
  done
  for opt in "${!want[@]}"; do
    if [ "${want[$opt]}" = off ]; then
      ! grep -q "^$opt=" "$config" || { echo "  should be off: $opt (from ${from[$opt]})"; bad=1; }
    else
      grep -qxF "${want[$opt]}" "$config" || { echo "  not set as asked: ${want[$opt]} (from ${from[$opt]})"; bad=1; }
    fi
  done
  return $bad
}

build_kernel() { # name fragment...
  local name=$1; shift
  local out=$work/build-$name
  echo "== kernel $name"
  rm -rf "$out" && mkdir -p "$out"
  make -s -C "$src" O="$out" ARCH=i386 tinyconfig >/dev/null
  (cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$@" >/dev/null)
  make -s -C "$src" O="$out" ARCH=i386 olddefconfig >/dev/null
  verify_config "$out/.config" "$@" || die "kernel $name: the config fragments did not all apply"
  make -s -C "$src" O="$out" ARCH=i386 -j"$(nproc)" bzImage
  cp "$out/arch/x86/boot/bzImage" "$here/$name"
  cp "$out/.config" "$here/config/$name.config"
}

build_initramfs() {
  echo "== initramfs"
  local root=$work/initramfs-root
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,mnt}
  cp /bin/busybox "$root/bin/busybox"
  local applet applets
  # Emulated, so that hosts whose kernel cannot run i386 programs build the same links.
  applets=$(qemu-i386-static "$root/bin/busybox" --list-full) || die "busybox --list-full failed"
  grep -qx bin/sh <<< "$applets" || die "busybox --list-full has no bin/sh: $(wc -l <<< "$applets") lines"
  for applet in $applets; do
    [ "$applet" = bin/busybox ] || ln -s /bin/busybox "$root/$applet"
  done
  install -m 0755 "$here/initramfs/init" "$root/init"
  install -m 0644 "$here/initramfs/profile" "$root/etc/profile"
  install -m 0644 "$here/initramfs/passwd" "$root/etc/passwd"
  install -m 0644 "$here/initramfs/group" "$root/etc/group"
  chmod 1777 "$root/tmp"
  # The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
  mknod -m 0600 "$root/dev/console" c 5 1
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  (cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --reproducible -R 0:0 --quiet) \
    | gzip -9 -n > "$here/initramfs.cpio.gz"
}

start=$(date +%s)
build_kernel bzImage "$here/config/virtio-i386.fragment" "$here/config/userland.fragment"
build_kernel bzImage-apic "$here/config/virtio-i386.fragment" "$here/config/userland.fragment" "$here/config/apic.fragment"
build_initramfs
build_data_disk
release=$(make -s -C "$src" O="$work/build-bzImage" ARCH=i386 kernelrelease)

node -e '
  const fs = require("fs"), crypto = require("crypto"), path = require("path");
  const [dir, release, srcVer, bbVer, e2fsVer, gzVer, gcc, seconds] = process.argv.slice(1);
  const sha = (f) => crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex");
  const images = {};
  for (const f of ["bzImage", "bzImage-apic", "initramfs.cpio.gz", "data-ext2.img.gz"])
    images[f] = { sha256: sha(f), size: fs.statSync(path.join(dir, f)).size };
  const manifest = {
    kernel: release,
    packages: { "linux-source-6.1": srcVer, "busybox-static:i386": bbVer, e2fsprogs: e2fsVer, gzip: gzVer },
    compiler: gcc,
    source_date: new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString(),
    built: new Date().toISOString(),
    build_seconds: Number(seconds),
    configs: {
      bzImage: { file: "config/bzImage.config", sha256: sha("config/bzImage.config") },
      "bzImage-apic": { file: "config/bzImage-apic.config", sha256: sha("config/bzImage-apic.config") },
    },
    images,
  };
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
' "$here" "$release" "$src_ver" "$bb_ver" "$(pkgver e2fsprogs)" "$(pkgver gzip)" "$(gcc --version | head -1)" "$(( $(date +%s) - start ))"
check
echo "built in $(( $(date +%s) - start )) s"
