package conf

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/vrrp"
)

// The raw model is the configuration as written, with defaults filled in and
// the source blocks kept for diagnostics. decode builds it, validate checks
// it, compile turns it into a Config.

type rawFile struct {
	global    *rawGlobal
	instances []*rawInstance
	groups    []*rawGroup
	services  []*rawService
	svcGroups []*rawSvcGroup // virtual_service_group (svcgroup.go)
	// Trackers (track.go).
	scripts    []*rawScript
	trackFiles []*rawTrackFile
	trackProcs []*rawTrackProcess
	bgp        []*rawBGP // bgp blocks (bgp.go); one is allowed
}

type rawGlobal struct {
	b, timeouts                                                 *block
	routerID, controlSocket, metricsListen, logFormat, logLevel string
	ipvsMode                                                    string
	reconcile                                                   time.Duration
	prune, sysctls                                              bool
	scriptUser, notifyFIFO                                      string
	tcp, tcpFin, udp                                            time.Duration
	syncs                                                       []*rawSync // ipvs_sync blocks (sync.go)
}

type rawInstance struct {
	b                      *block
	name, iface            string
	vrid, priority         int64
	version                int64
	family                 string
	advert, preemptDelay   time.Duration
	preempt                bool
	dontTrackPrimary       bool          // keepalived's dont_track_primary
	yieldTimeout           time.Duration // ends the yield after a handover
	authPass               string
	vips                   []rawVIP
	source                 netip.Addr
	peers                  []netip.Addr
	track                  []rawTrack
	trackSvc               []rawTrack // track_service: name is the service label
	notify                 vrrp.Notify
	garp                   vrrp.GARP
	garpBlock, notifyBlock *block
	trackRefs              []rawTrackRef // track_script, track_file, track_process
}

type rawVIP struct {
	prefix netip.Prefix
	dev    string
	rng    *hcl.Range
	ok     bool
}

type rawTrack struct {
	b       *block
	name    string
	weight  int64
	reverse bool // track_interface only
}

type rawGroup struct {
	b           *block
	name        string
	instances   []string
	notify      vrrp.Notify
	notifyBlock *block
	trackRefs   []rawTrackRef
}

type rawService struct {
	b                  *block
	name               string
	protocol           string
	addr               netip.Addr
	port               int
	fwmark             int64
	family             string
	scheduler          string
	flags              []string
	persistence        time.Duration
	netmask, engine    string
	instance           string
	quorum, hysteresis int64
	drainFor           time.Duration
	forward            string
	inhibit            bool
	checks             []*rawCheck
	reals              []*rawReal
	sorry              *rawReal
	sorryDup           []*rawReal
	sorryInhibit       bool     // sorry_server_inhibit
	quorumUp, quorumDn []string // quorum_up, quorum_down (notifyhooks.go)
	omega              bool
	ops                bool   // one-packet scheduling (tunops.go)
	tun                rawTun // the real servers' default encapsulation
	group              string // virtual_service_group (svcgroup.go)
	groupSvc           string // a member's virtual_service label (svcgroup.go)
	classify           []*rawClassify
	announce           string // "vrrp" or "bgp" (bgp.go)
}

type rawReal struct {
	b            *block
	addr         netip.Addr
	port         int // -1: not given
	addrOK       bool
	weight       int64
	forward      string
	snat         netip.Addr
	upper, lower int64
	inhibit      bool
	checks       []*rawCheck
	notifyUp     []string // notify_up, notify_down (notifyhooks.go)
	notifyDown   []string
	tun          rawTun
	trackFiles   []rawTrackRef // keepalived's FILE_CHECK (filecheck.go)
}

type rawClassify struct {
	b        *block
	addr     netip.Addr
	protocol string
	ports    []int64
}

type rawCheck struct {
	b                                  *block
	kind                               string
	interval, timeout, delay, warmup   time.Duration
	retry, rise                        int64
	alpha                              bool
	port                               int64
	source                             netip.Addr
	path, host, digest, regex, tlsName string
	status                             []string
	tlsVerify                          bool
	maxBody                            int64
	command                            []string
	payload, queryName, queryType      string
	expectReply                        bool
	heloName                           string     // smtp
	connectIP                          netip.Addr // connect_ip: the address checked, if not the real server's
	regexNoMatch                       bool       // httpextras.go
	tlsCA, tlsCert, tlsKey             string
	bindIf                             string // bind_if
	miscDynamic                        bool   // keepalived's misc_dynamic (script checks)
}
