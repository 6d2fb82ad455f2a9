#!/usr/bin/env bash
# Checks the Debian package as an operator meets it, on this machine, as root:
# build it, lintian (no errors), dpkg -i, havsd check of the shipped
# /etc/havsd/havsd.hcl, havsd version, both man pages render without groff
# warnings, systemd-analyze verify of the unit, promtool over the alert rules,
# then dpkg -P leaves none of the package's files or directories behind.
# test/all.sh runs it; it refuses to touch a havsd package already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if dpkg-query -W -f='${Status}' havsd 2>/dev/null | grep -q installed; then
	echo "dist/deb/ci.sh: a havsd package is already installed here; not replacing it" >&2
	exit 1
fi
out=$(mktemp -d)
trap 'dpkg -P havsd >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

deb=$(go run ./dist/deb -o "$out")
echo "built $deb ($(du -h "$deb" | cut -f1))"
lintian --fail-on error --tag-display-limit 0 "$deb"

dpkg -i "$deb" >/dev/null
havsd check -f /etc/havsd/havsd.hcl
havsd version
for page in /usr/share/man/man8/havsd.8.gz /usr/share/man/man5/havsd.hcl.5.gz; do
	MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >/dev/null 2>"$out/man.err"
	if [ -s "$out/man.err" ]; then
		echo "man -l $page:"; cat "$out/man.err"; exit 1
	fi
done
echo "man pages render cleanly"
# With the binary and the man pages installed, verify has nothing to excuse.
systemd-analyze verify dist/havsd.service /usr/lib/systemd/system/havsd.service
echo "systemd-analyze verify: clean"
(cd dist/prometheus && promtool check rules havsd-rules.yml && promtool test rules havsd-rules.test.yml)

# Purge: every file and the package's own directories go.
mapfile -t owned < <(dpkg -L havsd)
dpkg -P havsd >/dev/null
left=()
for f in "${owned[@]}"; do
	case $f in
	/etc/havsd* | /usr/share/doc/havsd* | /usr/share/havsd*) [ -e "$f" ] && left+=("$f") ;;
	*) { [ -f "$f" ] || [ -L "$f" ]; } && left+=("$f") ;;
	esac
done
if [ "${#left[@]}" -gt 0 ]; then
	echo "dpkg -P havsd left behind: ${left[*]}"; exit 1
fi
echo "dpkg -P: nothing left behind (${#owned[@]} paths checked)"
