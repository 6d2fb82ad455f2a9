package lvs

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// IPVS is the kernel's IPVS table over generic netlink. Single writes and
// destination dumps go through moby/ipvs; service reads are our own so that
// the persistence engine is read back (genl_linux.go), and so are batched
// writes (WriteOps, batch_linux.go), which the reconciler uses. It is safe
// for concurrent use: one mutex serialises every request.
//
// moby/ipvs runs "modprobe ip_vs" and resolves the IPVS genetlink family
// once per process, on the first OpenIPVS: load the modules before it.
type IPVS struct {
	mu     sync.Mutex
	h      *ipvs.Handle
	sock   *nl.NetlinkSocket // our service reads and batched writes
	seq    uint32            // last sequence number of a batch (batch_linux.go)
	family uint16
}

var _ Table = (*IPVS)(nil)

// OpenIPVS opens the IPVS table of the network namespace at nsPath ("" for
// the current one). It fails with an error wrapping ErrNoIPVS when the
// kernel has no IPVS.
func OpenIPVS(nsPath string) (*IPVS, error) {
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		// moby/ipvs.New runs modprobe; try once more after it.
		if h, herr := ipvs.New(nsPath); herr == nil {
			h.Close()
		}
		if fam, err = netlink.GenlFamilyGet("IPVS"); err != nil {
			return nil, fmt.Errorf("%w (generic netlink family IPVS: %v)", ErrNoIPVS, err)
		}
	}
	h, err := ipvs.New(nsPath)
	if err != nil {
		return nil, fmt.Errorf("opening IPVS netlink socket: %w", err)
	}
	ns := netns.None()
	if nsPath != "" {
		if ns, err = netns.GetFromPath(nsPath); err != nil {
			h.Close()
			return nil, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
		}
		defer ns.Close()
	}
	sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("opening generic netlink socket: %w", err)
	}
	_ = sock.SetReceiveBufferSize(1<<20, false) // room for a batch's error answers; best effort
	return &IPVS{h: h, sock: sock, family: fam.ID}, nil
}

// SetTimeouts sets IPVS's connection timeouts, as ipvsadm --set does; a zero
// duration leaves that timeout as it is.
func (t *IPVS) SetTimeouts(tcp, tcpFin, udp time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.h.SetConfig(&ipvs.Config{TimeoutTCP: tcp, TimeoutTCPFin: tcpFin, TimeoutUDP: udp}); err != nil {
		return fmt.Errorf("setting IPVS timeouts (tcp %s, tcp_fin %s, udp %s): %w", tcp, tcpFin, udp, err)
	}
	return nil
}

// Close releases both netlink sockets.
func (t *IPVS) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.h.Close()
	t.sock.Close()
	return nil
}

// Services dumps the services (one request) and the destinations of each
// (one request per service: IPVS has no dump of all destinations).
func (t *IPVS) Services() ([]Service, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	svcs, err := dumpServices(t.sock, t.family)
	if err != nil {
		return nil, fmt.Errorf("dumping IPVS services: %w", err)
	}
	for i := range svcs {
		ds, err := t.h.GetDestinations(toMobyService(svcs[i]))
		if err != nil {
			return nil, fmt.Errorf("dumping real servers of %s: %w", svcs[i].Key, err)
		}
		svcs[i].Destinations = make([]Destination, 0, len(ds))
		for _, d := range ds {
			svcs[i].Destinations = append(svcs[i].Destinations, fromMobyDest(d))
		}
	}
	return svcs, nil
}

// Service reads one service and its destinations (two requests); ok is
// false when the kernel has no such service.
func (t *IPVS) Service(k ServiceKey) (Service, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok, err := getService(t.sock, t.family, k.canonical())
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("reading IPVS service %s: %w", k, err)
		}
		return Service{}, false, err
	}
	ds, err := t.h.GetDestinations(toMobyService(s))
	if err != nil {
		return Service{}, false, fmt.Errorf("dumping real servers of %s: %w", k, err)
	}
	s.Destinations = make([]Destination, 0, len(ds))
	for _, d := range ds {
		s.Destinations = append(s.Destinations, fromMobyDest(d))
	}
	return s, true, nil
}

// NewService creates a service.
func (t *IPVS) NewService(s Service) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.NewService(toMobyService(s))
}

// UpdateService changes a service's attributes.
func (t *IPVS) UpdateService(s Service) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.UpdateService(toMobyService(s))
}

// DelService deletes a service.
func (t *IPVS) DelService(k ServiceKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.DelService(toMobyService(Service{Key: k}))
}

// NewDestination adds a real server.
func (t *IPVS) NewDestination(k ServiceKey, d Destination) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.NewDestination(toMobyService(Service{Key: k}), toMobyDest(d))
}

// UpdateDestination changes a real server.
func (t *IPVS) UpdateDestination(k ServiceKey, d Destination) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.UpdateDestination(toMobyService(Service{Key: k}), toMobyDest(d))
}

// DelDestination removes a real server.
func (t *IPVS) DelDestination(k ServiceKey, d DestKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h.DelDestination(toMobyService(Service{Key: k}), toMobyDest(Destination{Addr: d.Addr, Port: d.Port}))
}

func toMobyService(s Service) *ipvs.Service {
	c := s.Canonical()
	m := &ipvs.Service{
		AddressFamily: afOf(c.Key.Family),
		FWMark:        c.Key.FWMark,
		SchedName:     c.Scheduler,
		Timeout:       uint32(c.Timeout.Seconds()),
		PEName:        c.PE,
		Flags:         uint32(c.Flags) << svcFlagSchedShift,
	}
	if c.Key.FWMark == 0 {
		m.Protocol = ipProto(c.Key.Proto)
		m.Address = net.IP(c.Key.Addr.AsSlice())
		m.Port = c.Key.Port
	}
	if c.Timeout > 0 {
		m.Flags |= svcFlagPersistent
	}
	bits := c.NetmaskBits
	if bits == 0 {
		bits = c.Key.maxBits()
	}
	if c.Key.Family == IPv6 {
		m.Netmask = uint32(bits) // a prefix length for IPv6
	} else {
		// moby writes the value in host order; IPVS wants the mask's
		// bytes in network order.
		mask := net.CIDRMask(bits, 32)
		m.Netmask = binary.NativeEndian.Uint32(mask)
	}
	return m
}

func toMobyDest(d Destination) *ipvs.Destination {
	a := d.Addr.Unmap()
	return &ipvs.Destination{
		Address:         net.IP(a.AsSlice()),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: fwdFlags(d.Forward),
		AddressFamily:   afOf(FamilyOf(a)),
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
}

func fromMobyDest(d *ipvs.Destination) Destination {
	a, _ := netip.AddrFromSlice(d.Address)
	out := Destination{
		Addr: a.Unmap(), Port: d.Port, Weight: d.Weight,
		UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold,
		ActiveConns: d.ActiveConnections, InactiveConns: d.InactiveConnections,
		Stats: Stats{
			Conns: uint64(d.Stats.Connections), PacketsIn: uint64(d.Stats.PacketsIn),
			PacketsOut: uint64(d.Stats.PacketsOut), BytesIn: d.Stats.BytesIn, BytesOut: d.Stats.BytesOut,
			CPS: uint64(d.Stats.CPS), PPSIn: uint64(d.Stats.PPSIn), PPSOut: uint64(d.Stats.PPSOut),
			BPSIn: uint64(d.Stats.BPSIn), BPSOut: uint64(d.Stats.BPSOut),
		},
	}
	switch d.ConnectionFlags & ipvs.ConnectionFlagFwdMask {
	case ipvs.ConnectionFlagMasq:
		out.Forward = Masq
	case ipvs.ConnectionFlagDirectRoute:
		out.Forward = Route
	case ipvs.ConnectionFlagTunnel:
		out.Forward = Tunnel
	}
	return out
}

func fwdFlags(f Forward) uint32 {
	switch f {
	case Masq:
		return ipvs.ConnectionFlagMasq
	case Tunnel:
		return ipvs.ConnectionFlagTunnel
	}
	return ipvs.ConnectionFlagDirectRoute // ipvsadm's default
}

func afOf(f Family) uint16 {
	if f == IPv6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func ipProto(p Protocol) uint16 {
	switch p {
	case UDP:
		return unix.IPPROTO_UDP
	case SCTP:
		return unix.IPPROTO_SCTP
	}
	return unix.IPPROTO_TCP
}
