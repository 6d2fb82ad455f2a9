#!/usr/bin/env bash
# Runs every havsd test on a fresh Debian machine, as root: installs what the
# tests need, checks formatting and vet, runs the unit and network-namespace
# tests (short lab drill and failover smoke included), then the IPVS tests in a
# qemu VM booting a stock Debian kernel.
#
#   bash test/all.sh            everything (what .ci/run runs)
#   SKIP_VM=1 bash test/all.sh  everything but the VM (says so in its output)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "test/all.sh: the tests create network namespaces and boot a VM: run as root" >&2
	exit 1
fi

# Debian packages the tests use: iproute2 and nftables (namespaces, rules),
# keepalived (interop peer and failover baseline), tshark/tcpdump (advert
# decoding), qemu/cpio/kmod/ipvsadm/busybox-static (VM), setpriv (util-linux),
# bird2 and frr (the routers the BGP speaker and the ECMP lab peer with).
# lintian, man-db, prometheus (promtool) and systemd (systemd-analyze) check the
# Debian package, its man pages, alert rules and unit.
need=(iproute2 nftables keepalived tshark tcpdump qemu-system-x86 cpio kmod ipvsadm iputils-ping util-linux ca-certificates bird2 frr
	lintian man-db prometheus systemd)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
	# bird2 and frr start their services on install; the tests run their
	# own routers inside namespaces, never in the host's.
	if [ -d /run/systemd/system ]; then
		case " ${missing[*]} " in *" bird2 "*) systemctl disable --now bird.service >/dev/null 2>&1 || true ;; esac
		case " ${missing[*]} " in *" frr "*) systemctl disable --now frr.service >/dev/null 2>&1 || true ;; esac
	fi
fi

echo "== gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== go test: unit, fuzz seeds, network namespaces (as root)"
go test -count=1 -timeout 20m ./...

echo "== Debian package: build, lintian, dpkg -i, check, version, man, systemd-analyze verify, promtool, dpkg -P"
bash dist/deb/ci.sh

echo "== benchmark smoke: health checks at scale (500 servers for 5 s; the full run is in README)"
go test -count=1 -run '^$' -bench 'Scale$' -benchtime 1x ./checks

if [ -n "${SKIP_VM:-}" ]; then
	echo "== IPVS tests in the VM: NOT RUN (SKIP_VM is set)"
	exit 0
fi
echo "== IPVS tests in a qemu VM (stock Debian kernel with ip_vs)"
bash test/vm/run-tests.sh
echo "== all tests passed"
