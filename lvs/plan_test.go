package lvs

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func tcp(addr string, port uint16) ServiceKey {
	a := netip.MustParseAddr(addr)
	return ServiceKey{Family: FamilyOf(a), Proto: TCP, Addr: a, Port: port}
}

func dst(addr string, port uint16, w int, f Forward) Destination {
	return Destination{Addr: netip.MustParseAddr(addr), Port: port, Weight: w, Forward: f}
}

func svc(k ServiceKey, sched string, ds ...Destination) Service {
	return Service{Key: k, Scheduler: sched, Destinations: ds}
}

func TestPlan(t *testing.T) {
	web := tcp("172.0.0.30", 80)
	ssh := tcp("172.0.0.30", 22)
	foreign := tcp("10.9.9.9", 53)
	rs1 := dst("192.168.1.10", 80, 1, Masq)
	rs2 := dst("192.168.1.20", 80, 1, Masq)
	rs1w2 := dst("192.168.1.10", 80, 2, Masq)
	stats := func(d Destination) Destination {
		d.ActiveConns, d.Stats.Conns = 7, 1000
		return d
	}
	ownAll := func(ServiceKey) bool { return true }
	tests := []struct {
		name              string
		desired, observed []Service
		owned             func(ServiceKey) bool
		want              []string
	}{
		{name: "empty"},
		{
			name:    "create from empty: service before its destinations",
			desired: []Service{svc(web, "rr", rs2, rs1)},
			want: []string{
				"add-service tcp 172.0.0.30:80 rr",
				"add-dest tcp 172.0.0.30:80 -> 192.168.1.10:80 masq weight 1",
				"add-dest tcp 172.0.0.30:80 -> 192.168.1.20:80 masq weight 1",
			},
		},
		{
			name:     "no change, counters and order ignored",
			desired:  []Service{svc(web, "rr", rs2, rs1)},
			observed: []Service{svc(web, "rr", stats(rs1), stats(rs2))},
		},
		{
			name:     "default scheduler equals wlc",
			desired:  []Service{svc(web, "", rs1)},
			observed: []Service{svc(web, "wlc", rs1)},
		},
		{
			name:     "DR and TUN real servers take the service port, as ipvsadm sets it",
			desired:  []Service{svc(web, "rr", dst("192.168.1.10", 8080, 1, Route), dst("192.168.1.20", 0, 1, Tunnel))},
			observed: []Service{svc(web, "rr", dst("192.168.1.10", 80, 1, Route), dst("192.168.1.20", 80, 1, Tunnel))},
		},
		{
			name:     "weight change is one update",
			desired:  []Service{svc(web, "rr", rs1w2, rs2)},
			observed: []Service{svc(web, "rr", rs1, rs2)},
			want:     []string{"update-dest tcp 172.0.0.30:80 -> 192.168.1.10:80 masq weight 2 (was masq weight 1)"},
		},
		{
			name:     "scheduler change updates the service only",
			desired:  []Service{svc(web, "wrr", rs1)},
			observed: []Service{svc(web, "rr", rs1)},
			want:     []string{"update-service tcp 172.0.0.30:80 wrr (was rr)"},
		},
		{
			name:     "stale destination deleted, new added first",
			desired:  []Service{svc(web, "rr", rs2)},
			observed: []Service{svc(web, "rr", rs1)},
			want: []string{
				"add-dest tcp 172.0.0.30:80 -> 192.168.1.20:80 masq weight 1",
				"del-dest tcp 172.0.0.30:80 -> 192.168.1.10:80",
			},
		},
		{
			name:     "owned service removed: destinations go with it",
			desired:  []Service{svc(web, "rr", rs1)},
			observed: []Service{svc(web, "rr", rs1), svc(ssh, "rr", dst("192.168.1.10", 22, 1, Masq))},
			owned:    func(k ServiceKey) bool { return k == ssh },
			want:     []string{"del-service tcp 172.0.0.30:22"},
		},
		{
			name:     "foreign service left alone",
			desired:  []Service{svc(web, "rr", rs1)},
			observed: []Service{svc(web, "rr", rs1), svc(foreign, "rr")},
			owned:    func(ServiceKey) bool { return false },
		},
		{
			name:     "prune everything not desired",
			observed: []Service{svc(foreign, "rr", rs1)},
			owned:    ownAll,
			want:     []string{"del-service tcp 10.9.9.9:53"},
		},
		{
			name: "persistence with netmask, full netmask is the default",
			desired: []Service{
				{Key: web, Scheduler: "rr", Timeout: 300 * time.Second, NetmaskBits: 24},
				{Key: ssh, Scheduler: "rr", Timeout: 300 * time.Second, NetmaskBits: 32},
			},
			observed: []Service{
				{Key: web, Scheduler: "rr", Timeout: 300 * time.Second},
				{Key: ssh, Scheduler: "rr", Timeout: 300 * time.Second},
			},
			want: []string{"update-service tcp 172.0.0.30:80 rr persistent 5m0s/24 (was rr persistent 5m0s)"},
		},
		{
			name:     "forwarding method and thresholds",
			desired:  []Service{svc(web, "rr", Destination{Addr: rs1.Addr, Port: 80, Weight: 1, Forward: Route, UpperThreshold: 10, LowerThreshold: 5})},
			observed: []Service{svc(web, "rr", rs1)},
			want:     []string{"update-dest tcp 172.0.0.30:80 -> 192.168.1.10:80 route weight 1 thresholds 10/5 (was masq weight 1)"},
		},
		{
			name: "ordering across services",
			desired: []Service{
				svc(web, "rr", rs1w2),
				svc(ssh, "sh", dst("192.168.1.10", 22, 1, Route)),
			},
			observed: []Service{svc(web, "rr", rs1, rs2), svc(foreign, "rr")},
			owned:    ownAll,
			want: []string{
				"add-service tcp 172.0.0.30:22 sh",
				"add-dest tcp 172.0.0.30:22 -> 192.168.1.10:22 route weight 1",
				"update-dest tcp 172.0.0.30:80 -> 192.168.1.10:80 masq weight 2 (was masq weight 1)",
				"del-dest tcp 172.0.0.30:80 -> 192.168.1.20:80",
				"del-service tcp 10.9.9.9:53",
			},
		},
		{
			name:     "fwmark and IPv6 keys",
			desired:  []Service{{Key: ServiceKey{Family: IPv6, FWMark: 7}, Scheduler: "rr", PE: "sip", Timeout: time.Minute}},
			observed: []Service{{Key: ServiceKey{Family: IPv4, FWMark: 7}, Scheduler: "rr"}},
			want:     []string{"add-service fwmark 7 inet6 rr persistent 1m0s pe sip"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, op := range Plan(tt.desired, tt.observed, tt.owned) {
				got = append(got, op.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Plan() ops (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanConverges(t *testing.T) {
	// Applying a plan to the observed table must make the next plan empty.
	web := tcp("172.0.0.30", 80)
	desired := []Service{svc(web, "wrr", dst("192.168.1.10", 80, 2, Masq), dst("192.168.1.20", 80, 1, Masq))}
	observed := []Service{svc(web, "rr", dst("192.168.1.10", 80, 1, Masq), dst("192.168.1.30", 80, 1, Masq))}
	next := patch(observed, Plan(desired, observed, nil))
	if ops := Plan(desired, next, nil); len(ops) != 0 {
		t.Errorf("second plan not empty: %v", ops)
	}
	if !desired[0].Equal(next[0]) {
		t.Errorf("patched table differs from desired:\n%s", cmp.Diff(desired, next))
	}
}

// TestPlanFromEmpty checks the cold-start path of Plan against the general
// merge (forced by a foreign service it must leave alone), and that the
// patched view of a cold start equals the desired table.
func TestPlanFromEmpty(t *testing.T) {
	desired := []Service{
		svc(tcp("172.0.0.30", 80), "wrr", dst("192.168.1.20", 80, 1, Masq), dst("192.168.1.10", 80, 2, Masq)),
		svc(tcp("172.0.0.30", 22), "rr", dst("192.168.1.10", 22, 1, Route)),
		svc(tcp("172.0.0.30", 443), "rr"),
	}
	cold := Plan(desired, nil, nil)
	general := Plan(desired, []Service{svc(tcp("10.9.9.9", 53), "rr")}, nil)
	if diff := cmp.Diff(general, cold); diff != "" {
		t.Errorf("cold plan differs from the general merge (-general +cold):\n%s", diff)
	}
	next := patch(nil, cold)
	if ops := Plan(desired, next, nil); len(ops) != 0 {
		t.Errorf("plan after a patched cold start not empty: %v", ops)
	}
}

func TestOpErrorMessages(t *testing.T) {
	web := tcp("172.0.0.30", 80)
	rs := dst("192.168.1.10", 80, 1, Masq)
	tests := []struct {
		op   Op
		err  error
		want string
	}{
		{Op{Kind: OpAddDest, Service: svc(web, "rr"), Dest: rs}, syscall.EINVAL,
			"adding real server 192.168.1.10:80 of service tcp 172.0.0.30:80: the kernel rejected the real server: IPVS takes only a unicast address it has a route to; check the route to 192.168.1.10 (invalid argument)"},
		{Op{Kind: OpAddService, Service: svc(web, "twos")}, syscall.ENOENT,
			`adding service tcp 172.0.0.30:80: scheduler "twos" is not available in this kernel (needs Linux 6.2+) (no such file or directory)`},
		{Op{Kind: OpAddService, Service: svc(web, "twos")}, syscall.ESRCH,
			`adding service tcp 172.0.0.30:80: scheduler "twos" is not available in this kernel (needs Linux 6.2+) (no such process)`},
		{Op{Kind: OpUpdateDest, Service: svc(web, "rr"), Dest: rs}, syscall.EPERM,
			"updating real server 192.168.1.10:80 of service tcp 172.0.0.30:80: permission denied: programming IPVS needs CAP_NET_ADMIN (operation not permitted)"},
		{Op{Kind: OpDelService, Service: svc(web, "rr")}, ErrNoIPVS,
			"deleting service tcp 172.0.0.30:80: IPVS is not available in this kernel: load ip_vs"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := (&OpError{Op: tt.op, Err: tt.err}).Error()
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
