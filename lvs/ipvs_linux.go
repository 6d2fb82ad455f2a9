package lvs

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// IPVS is the kernel's IPVS table over generic netlink: one socket and one
// framing for reads, single writes, batched writes (WriteOps) and the sync
// daemons. It is safe for concurrent use: one mutex serialises every
// request.
type IPVS struct {
	mu sync.Mutex
	g  *genlSock
}

var _ Table = (*IPVS)(nil)

// OpenIPVS opens the IPVS table of the network namespace at nsPath ("" for
// the current one). When the kernel has no IPVS family it runs "modprobe
// ip_vs" once; if that does not help it fails with an error wrapping
// ErrNoIPVS.
func OpenIPVS(nsPath string) (*IPVS, error) {
	g, err := dialGenl(nsPath)
	if err != nil {
		return nil, err
	}
	if err := g.resolve(); err != nil {
		g.close()
		return nil, err
	}
	return &IPVS{g: g}, nil
}

// Close releases the netlink socket.
func (t *IPVS) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.g.close()
}

// SetTimeouts sets IPVS's connection timeouts, as ipvsadm --set does; a zero
// duration leaves that timeout as it is.
func (t *IPVS) SetTimeouts(tcp, tcpFin, udp time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.g.request(ipvsCmdSetConfig, unix.NLM_F_ACK, func(w *attrWriter) {
		for _, a := range []struct {
			typ uint16
			d   time.Duration
		}{{ipvsCmdAttrTimeoutTCP, tcp}, {ipvsCmdAttrTimeoutTCPFin, tcpFin}, {ipvsCmdAttrTimeoutUDP, udp}} {
			if a.d > 0 {
				w.u32(a.typ, uint32(a.d/time.Second))
			}
		}
	}, nil)
	if err != nil {
		return fmt.Errorf("setting IPVS timeouts (tcp %s, tcp_fin %s, udp %s): %w", tcp, tcpFin, udp, err)
	}
	return nil
}

// Services dumps the services (one request) and the destinations of each
// (one request per service: IPVS has no dump of all destinations).
func (t *IPVS) Services() ([]Service, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var svcs []Service
	err := t.g.request(ipvsCmdGetService, unix.NLM_F_DUMP, nil, func(b []byte) error {
		s, err := parseServiceMsg(b)
		svcs = append(svcs, s)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dumping IPVS services: %w", err)
	}
	for i := range svcs {
		if svcs[i].Destinations, err = t.g.dests(svcs[i].Key); err != nil {
			return nil, fmt.Errorf("dumping real servers of %s: %w", svcs[i].Key, err)
		}
	}
	return svcs, nil
}

// Service reads one service and its destinations (two requests); ok is
// false when the kernel has no such service.
func (t *IPVS) Service(k ServiceKey) (Service, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k = k.canonical()
	var s Service
	found := false
	err := t.g.request(ipvsCmdGetService, 0, func(w *attrWriter) { appendService(w, Service{Key: k}, false) },
		func(b []byte) error {
			var err error
			s, err = parseServiceMsg(b)
			found = err == nil
			return err
		})
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.ENOENT) {
		return Service{}, false, nil
	}
	if err == nil && !found {
		err = fmt.Errorf("IPVS answered no service")
	}
	if err != nil {
		return Service{}, false, fmt.Errorf("reading IPVS service %s: %w", k, err)
	}
	if s.Destinations, err = t.g.dests(k); err != nil {
		return Service{}, false, fmt.Errorf("dumping real servers of %s: %w", k, err)
	}
	return s, true, nil
}

// dests dumps the destinations of one service.
func (g *genlSock) dests(k ServiceKey) ([]Destination, error) {
	var out []Destination
	err := g.request(ipvsCmdGetDest, unix.NLM_F_DUMP, func(w *attrWriter) { appendService(w, Service{Key: k}, false) },
		func(b []byte) error {
			d, err := parseDestMsg(b, k.Family)
			out = append(out, d)
			return err
		})
	if out == nil && err == nil {
		out = []Destination{}
	}
	return out, err
}

// write performs one operation and waits for the kernel's answer.
func (t *IPVS) write(op Op) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := attrWriter{}
	var err error
	if w.b, err = appendOp(make([]byte, 0, 128), op); err != nil {
		return err
	}
	return t.g.exchange(t.g.family, unix.NLM_F_ACK, w.b, nil)
}

// NewService creates a service.
func (t *IPVS) NewService(s Service) error { return t.write(Op{Kind: OpAddService, Service: s}) }

// UpdateService changes a service's attributes.
func (t *IPVS) UpdateService(s Service) error { return t.write(Op{Kind: OpUpdateService, Service: s}) }

// DelService deletes a service.
func (t *IPVS) DelService(k ServiceKey) error {
	return t.write(Op{Kind: OpDelService, Service: Service{Key: k}})
}

// NewDestination adds a real server.
func (t *IPVS) NewDestination(k ServiceKey, d Destination) error {
	return t.write(Op{Kind: OpAddDest, Service: Service{Key: k}, Dest: d})
}

// UpdateDestination changes a real server.
func (t *IPVS) UpdateDestination(k ServiceKey, d Destination) error {
	return t.write(Op{Kind: OpUpdateDest, Service: Service{Key: k}, Dest: d})
}

// DelDestination removes a real server.
func (t *IPVS) DelDestination(k ServiceKey, d DestKey) error {
	return t.write(Op{Kind: OpDelDest, Service: Service{Key: k}, Dest: Destination{Addr: d.Addr, Port: d.Port}})
}
