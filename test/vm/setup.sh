#!/bin/bash
# setup.sh prepares, idempotently, everything the VM harness needs in a cache
# directory: a stock Debian cloud kernel, the modules the IPVS tests need, and
# a base initramfs (busybox, kmod, iproute2, ipvsadm, nft and their libraries).
# The Go runner (test/vm/cmd/vmrun) appends the test binary and /init per run.
#
# Usage: test/vm/setup.sh [CACHE_DIR]     (default: test/vm/cache)
# Env:   HAVSD_VM_KERNEL_PKG  kernel meta package (default linux-image-cloud-amd64)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One setup at a time per cache: concurrent runs would rebuild root/ together.
exec 9>"$cache/.lock"
flock 9
meta=${HAVSD_VM_KERNEL_PKG:-linux-image-cloud-amd64}

log() { echo "vm-setup: $*" >&2; }

# Modules the image carries (with their dependencies): boot_modules are
# loaded by /init; the others load on demand (the kernel and moby/ipvs call
# /sbin/modprobe) and cost nothing at boot.
boot_modules=(
	ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh
	ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_pe_sip
	nf_conntrack nf_nat nf_tables nft_ct nft_nat nft_chain_nat nft_masq
	veth bridge dummy ipip
)
modules=(
	"${boot_modules[@]}"
	nft_redir nft_numgen nft_hash nft_limit nft_reject_inet nft_fib_inet
	ip6_tunnel sctp
)

# Extra programs copied into the image with the libraries ldd finds, as
# "command:debian-package:/path/in/guest"; tests that need one look for it
# at that path (keepalived: the checker and IPVS baselines).
extra_bins=(
	keepalived:keepalived:/usr/sbin/keepalived
)

# 1. Host tools. CI machines start clean, so install what is missing.
need=()
for pair in qemu-system-x86_64:qemu-system-x86 cpio:cpio ipvsadm:ipvsadm \
	depmod:kmod ip:iproute2 nft:nftables "${extra_bins[@]%:*}"; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. Kernel version from the meta package's dependency.
kpkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
if [[ -z $kpkg ]]; then
	apt-get update -qq || true
	kpkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
fi
[[ -n $kpkg ]] || { log "cannot resolve the kernel package of $meta"; exit 1; }
kver=${kpkg#linux-image-}

stamp="$cache/base.stamp"
want="kernel=$kver setup=$(sha256sum "$0" | cut -c1-16)"
if [[ -f $stamp && $(cat "$stamp") == "$want" && -f $cache/base.cpio && -f $cache/vmlinuz ]]; then
	log "cache up to date ($kver)"
	exit 0
fi

dl="$cache/dl"
mkdir -p "$dl"
fetch() { # fetch PKG: download the .deb once, print its path
	local f
	f=$(ls "$dl/$1"_*.deb 2>/dev/null | head -n1 || true)
	if [[ -z $f ]]; then
		# Stale package lists name versions the mirror no longer has.
		(cd "$dl" && apt-get download "$1" >&2) ||
			{ apt-get update -qq >&2 && (cd "$dl" && apt-get download "$1" >&2); } || return 1
		f=$(ls "$dl/$1"_*.deb | head -n1)
	fi
	echo "$f"
}

kdir="$cache/kernel-$kver"
if [[ ! -f $kdir/boot/vmlinuz-$kver ]]; then
	log "downloading $kpkg"
	rm -rf "$kdir"
	if ! deb=$(fetch "$kpkg"); then
		# After an update the meta package may name a newer kernel.
		[[ -z ${HAVSD_VM_SETUP_RETRY:-} ]] || { log "cannot download $kpkg"; exit 1; }
		HAVSD_VM_SETUP_RETRY=1 exec "$0" "$@"
	fi
	dpkg -x "$deb" "$kdir"
	depmod -b "$kdir" "$kver"
fi
bbdir="$cache/busybox"
if [[ ! -x $bbdir/bin/busybox ]]; then
	log "downloading busybox-static"
	rm -rf "$bbdir"
	deb=$(fetch busybox-static) || { log "cannot download busybox-static"; exit 1; }
	dpkg -x "$deb" "$bbdir"
fi

# 3. The root tree of the base image.
root="$cache/root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,tmp,run/netns,etc,havsd} \
	"$root/lib/modules/$kver" "$root/var"
ln -s ../run "$root/var/run"
cp "$bbdir/bin/busybox" "$root/bin/busybox"

copy_bin() { # copy_bin SRC DEST: a dynamic binary with its ldd libraries
	cp -L "$1" "$root$2"
	ldd "$1" | awk '/=>/ {print $3} /^\t\// {print $1}' | while read -r lib; do
		[[ -n $lib && -e $lib ]] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_bin "$(command -v ip)" /sbin/ip
copy_bin "$(command -v ipvsadm)" /sbin/ipvsadm
copy_bin "$(command -v nft)" /sbin/nft
copy_bin "$(command -v kmod)" /bin/kmod
for e in "${extra_bins[@]}"; do
	copy_bin "$(command -v "${e%%:*}")" "${e##*:}"
done
for l in modprobe insmod rmmod lsmod modinfo depmod; do ln -s ../bin/kmod "$root/sbin/$l"; done
# Busybox applets for everything else, never shadowing the real tools above.
for a in $("$root/bin/busybox" --list-full); do
	[[ -e $root/$a || -L $root/$a ]] || ln -s /bin/busybox "$root/$a"
done
echo "root:x:0:0:root:/tmp:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

# Modules: the closure of the list above, then depmod over the subset.
kmods="$kdir/lib/modules/$kver"
for m in "${modules[@]}"; do
	modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | sort -u | while read -r ko; do
	rel=${ko#"$kmods"/}
	mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
	cp "$ko" "$root/lib/modules/$kver/$rel"
done
cp "$kmods"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"
printf '%s\n' "${boot_modules[@]}" >"$root/etc/havsd-vm-modules"
echo "$kver" >"$root/etc/havsd-vm-kernel"

# 4. The base image (uncompressed newc: the kernel unpacks it faster under
# TCG than it inflates gzip) and the kernel.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$cache/base.cpio.tmp"
mv "$cache/base.cpio.tmp" "$cache/base.cpio"
cp "$kdir/boot/vmlinuz-$kver" "$cache/vmlinuz"
echo "$kver" >"$cache/kernel.version"
echo "$want" >"$stamp"
log "ready: kernel $kver, base image $(du -h "$cache/base.cpio" | cut -f1)"
