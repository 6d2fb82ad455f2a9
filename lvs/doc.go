// Package lvs models the kernel's IPVS table (virtual services and their real
// servers), plans the difference between a desired and an observed table, and
// applies it through a narrow Table interface: netlink in production, an
// in-memory fake in tests.
//
// The pieces:
//
//   - Service.Equal and Service.Canonical compare tables ignoring counters,
//     destination order and the spellings the kernel normalises (default
//     scheduler wlc, whole-second timeouts, full netmask = no netmask, DR and
//     TUN real servers on the service's port, as ipvsadm sets them).
//   - Plan(desired, observed, owned) is pure and returns ordered, printable
//     operations: add services, update services, add, update, then delete
//     destinations, delete services. Services neither desired nor owned are
//     foreign: Foreign lists them, Plan leaves them alone.
//   - Reconciler applies plans. Run does a full pass (one dump) every
//     interval and on Trigger, and after SetDesired a pass that reads and
//     plans only the services that changed, so a weight change costs one read
//     of that service and one write. One failed operation does not stop the
//     others; it is reported and retried by the next pass.
//   - Apply turns configured real servers and their health into the
//     destination list: weight 0 for inhibit_on_failure, absent otherwise,
//     and the sorry server while quorum (with hysteresis) is lost.
//   - IPVS (OpenIPVS) is the kernel table over github.com/moby/ipvs, with one
//     mutex around its handle. moby/ipvs v1.1.0 does not parse the
//     persistence-engine name, so services are read with a small generic
//     netlink query of our own (genl_linux.go) that does; Equal therefore
//     compares PE exactly. Destinations are read with one request per
//     service: IPVS has no dump of all destinations. Plans are written in
//     batches of 64 requests per system call (WriteOps, batch_linux.go),
//     which moby/ipvs cannot do; single calls still go through moby/ipvs.
//     Tunnel types other than
//     ipip (GUE, GRE) are not modelled; moby/ipvs cannot set them either.
//
// Subpackages: lvstest (fake table, call counting), nft (the packet-filter
// rules havsd owns), sysctl (what a forwarding mode needs), realserver (the
// DR/TUN real-server preparation of `havsd realserver`).
package lvs
