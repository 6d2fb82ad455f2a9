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
//   - IPVS (OpenIPVS) is the kernel table over generic netlink: one socket
//     (github.com/mdlayher/netlink's, opened in the wanted network
//     namespace) and one framing of our own for every IPVS request: the
//     service and destination dumps, single writes, the batched writes of a
//     pass (WriteOps: up to 256 requests per system call, each error answer
//     matched to its request by sequence number) and the connection
//     timeouts. The encoder and decoder (genl.go) are pure and
//     portable; they read back what ipvsadm shows, the persistence engine
//     and 64-bit counters included. github.com/moby/ipvs is not used: it
//     drops the persistence engine, cannot batch, and would be a second
//     socket with its own sequence numbers. Destinations are read with one
//     request per service: IPVS has no dump of all destinations. Tunnel
//     types other than ipip (GUE, GRE) are not modelled.
//
// Subpackages: lvstest (fake table, call counting), nft (the packet-filter
// rules havsd owns), sysctl (what a forwarding mode needs), realserver (the
// DR/TUN real-server preparation of `havsd realserver`).
package lvs
