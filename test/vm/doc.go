// Package vm boots a stock Debian kernel under qemu (TCG) with an initramfs
// holding busybox, kmod, iproute2, ipvsadm, nft, the IPVS and netfilter
// modules, and a caller's static binaries, and runs one command there: the
// harness that tests IPVS on a machine whose own kernel lacks it.
//
// test/vm/setup.sh prepares the cache (kernel, modules, base image); Run adds
// the caller's files and an /init per boot. The traffic tests of this package
// run only inside the VM (HAVSD_VM=1) and program real IPVS services that a
// client namespace reaches through veth links.
package vm
