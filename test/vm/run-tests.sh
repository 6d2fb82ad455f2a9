#!/bin/bash
# run-tests.sh runs the VM tests: it prepares the cache (setup.sh), builds a
# static test binary for every package holding a *_vm_test.go file (at least
# ./lvs and ./test/vm), boots the VM once per binary and fails when any of
# them fails. Arguments are passed to every test binary (e.g. -test.run X).
#
# Env: HAVSD_VM_CACHE (default test/vm/cache), HAVSD_VM_PKGS (override the
#      package list), HAVSD_VM_TIMEOUT (per boot, default 480s: a loaded host runs TCG slowly),
#      HAVSD_VM_MEM (MiB, default 1024).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
cache=${HAVSD_VM_CACHE:-test/vm/cache}
SECONDS=0

test/vm/setup.sh "$cache" || { echo "vm: setup failed" >&2; exit 1; }

if [[ -n ${HAVSD_VM_PKGS:-} ]]; then
	read -r -a pkgs <<<"$HAVSD_VM_PKGS"
else
	mapfile -t pkgs < <(
		{
			echo ./lvs
			echo ./test/vm
			find . -path ./test/vm/cache -prune -o -name '*_vm_test.go' -print | xargs -r -n1 dirname
		} | sed 's|^\./||; s|^|./|' | sort -u
	)
fi

bin="$cache/bin"
mkdir -p "$bin"
go build -o "$bin/vmrun" ./test/vm/cmd/vmrun || { echo "vm: building vmrun failed" >&2; exit 1; }

passed=() failed=()
for p in "${pkgs[@]}"; do
	name=$(echo "${p#./}" | tr / -).test
	rm -f "$bin/$name"
	if ! CGO_ENABLED=0 go test -c -o "$bin/$name" "$p"; then
		failed+=("$p (build)")
		continue
	fi
	if [[ ! -f $bin/$name ]]; then
		echo "vm: $p has no tests, skipped"
		continue
	fi
	echo "vm: === $p in the VM"
	if "$bin/vmrun" -cache "$cache" -timeout "${HAVSD_VM_TIMEOUT:-480s}" -mem "${HAVSD_VM_MEM:-1024}" \
		-- "$bin/$name" "$@"; then
		passed+=("$p")
	else
		failed+=("$p")
	fi
done

echo "vm: total ${SECONDS}s; passed: ${passed[*]:-none}; failed: ${failed[*]:-none}"
echo "vm: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
