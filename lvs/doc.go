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
//   - Pool.Destinations turns configured real servers and their health into the
//     destination list: weight 0 for inhibit_on_failure, absent otherwise,
//     and the sorry server while quorum (with hysteresis) is lost.
//   - IPVS (OpenIPVS) is the kernel table over generic netlink: one socket
//     (github.com/mdlayher/netlink's, opened in the wanted network
//     namespace) and one framing of our own for every IPVS request: the
//     service and destination dumps, single writes, the batched writes of a
//     pass (WriteOps: up to 256 requests per system call, each error answer
//     matched to its request by sequence number), the connection
//     timeouts and the sync daemons. The encoder and decoder (genl.go) are pure and
//     portable; they read back what ipvsadm shows, the persistence engine
//     and 64-bit counters included. github.com/moby/ipvs is not used: it
//     drops the persistence engine, cannot batch, and would be a second
//     socket with its own sequence numbers. Destinations are read with one
//     request per service: IPVS has no dump of all destinations. Tunnel
//     types other than ipip (GUE, GRE) are not modelled.
//   - Connection sync (syncd.go, syncrec.go): SyncReconciler keeps the
//     kernel's sync daemons (IPVS_CMD_NEW/DEL/GET_DAEMON) as desired and
//     restarts one stopped behind its back. havsd asks for both daemons,
//     master and backup, on every director whatever its VRRP state, where
//     keepalived runs the master daemon on the VRRP master and the backup
//     daemon elsewhere. Both at once means nothing is restarted at a
//     failover or handover: stopping a master daemon discards the sync
//     messages it has queued, and a backup daemon being restarted misses
//     what arrives meanwhile, both exactly when the connections matter;
//     after a fail-back the old master already holds what the other
//     synced while it was master. The kernel turns multicast loopback off
//     on the master's socket, so a director never hears itself, and a
//     backup director forwards nothing, so its master daemon sends
//     nothing. A keepalived peer interoperates either way (same defaults:
//     group 224.0.0.81, port 8848, TTL 1, sync id = VRID). The daemons are
//     per network namespace, like the table. havsd leaves them running
//     when it stops, as it leaves the table, and a restarted havsd adopts
//     daemons that match its configuration. What sync does not carry: the
//     conntrack state of full-NAT's SNAT half. What it carries but the
//     new master does not use (Linux 6.1): a firewall-mark service's
//     persistence template, which arrives with port 65535.
//
// Subpackages: lvstest (fake table, call counting), nft (the packet-filter
// rules havsd owns), sysctl (what a forwarding mode needs), realserver (the
// DR/TUN real-server preparation of `havsd realserver`).
package lvs
