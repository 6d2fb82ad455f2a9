package keepalived

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// memFS serves files from a map, for tests without a directory.
func memFS(files map[string]string) Options {
	return Options{
		ReadFile: func(name string) ([]byte, error) {
			s, ok := files[name]
			if !ok {
				return nil, fs.ErrNotExist
			}
			return []byte(s), nil
		},
		Glob: func(pattern string) ([]string, error) {
			if _, ok := files[pattern]; ok {
				return []string{pattern}, nil
			}
			return nil, nil
		},
	}
}

// convert converts src and checks that havsd loads the result to the same
// configuration: what the tests assert is what havsd would run.
func convert(t *testing.T, src string) (*conf.Config, Diagnostics) {
	t.Helper()
	p, diags := Parse("k.conf", memFS(map[string]string{"k.conf": src}))
	if p == nil {
		t.Fatalf("parse: %v", diags)
	}
	res, more := Convert(p)
	diags = append(diags, more...)
	cfg, s, ld := conf.LoadBytes("k.hcl", res.HCL())
	if cfg == nil {
		var b bytes.Buffer
		s.WriteDiagnostics(&b, ld, false)
		t.Fatalf("havsd refuses:\n%s\n%s", res.HCL(), b.String())
	}
	return cfg, diags
}

const vrrpHead = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.100/24\n }\n"

func vsWith(checker string) string {
	return "virtual_server 10.0.0.100 80 {\n delay_loop 10\n real_server 10.0.1.1 80 {\n " + checker + "\n }\n}\n"
}

// TestCheckTimings: retry N means N retries after the first failure, and
// the defaults are keepalived's per checker kind.
func TestCheckTimings(t *testing.T) {
	type timing struct {
		Retry                                     int
		Interval, Timeout, DelayBeforeRetry, Warm time.Duration
	}
	for _, tc := range []struct {
		name, checker string
		want          timing
	}{
		{"tcp defaults", "TCP_CHECK {\n}", timing{2, 10 * time.Second, 5 * time.Second, time.Second, 10 * time.Second}},
		{"tcp retry 3", "TCP_CHECK {\n retry 3\n}", timing{4, 10 * time.Second, 5 * time.Second, time.Second, 10 * time.Second}},
		{"nb_get_retry old spelling", "TCP_CHECK {\n nb_get_retry 0\n}", timing{1, 10 * time.Second, 5 * time.Second, time.Second, 10 * time.Second}},
		{"http waits 3s", "HTTP_GET {\n url {\n path /\n }\n}", timing{2, 10 * time.Second, 5 * time.Second, 3 * time.Second, 10 * time.Second}},
		{"dns retries 3, waits a delay_loop", "DNS_CHECK {\n name x.\n}", timing{4, 10 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"misc retries 0, times out at delay_loop", "MISC_CHECK {\n misc_path /bin/true\n}", timing{1, 10 * time.Second, 10 * time.Second, time.Second, 10 * time.Second}},
		{"misc_timeout", "MISC_CHECK {\n misc_path /bin/true\n misc_timeout 3\n}", timing{1, 10 * time.Second, 3 * time.Second, time.Second, 10 * time.Second}},
		{"checker settings win", "TCP_CHECK {\n delay_loop 2\n connect_timeout 1.5\n delay_before_retry 0.5\n warmup 0\n}", timing{2, 2 * time.Second, 1500 * time.Millisecond, 500 * time.Millisecond, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := convert(t, vsWith(tc.checker))
			c := cfg.Services[0].Reals[0].Checks[0]
			got := timing{c.Retry, c.Interval, c.Timeout, c.DelayBeforeRetry, c.Warmup}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestInheritance: real server settings beat the virtual server's, which
// beat the defaults; inhibit_on_failure and alpha too.
func TestInheritance(t *testing.T) {
	cfg, _ := convert(t, `virtual_server 10.0.0.100 80 {
    retry 5
    connect_timeout 7
    inhibit_on_failure
    alpha
    real_server 10.0.1.1 80 {
        retry 1
        TCP_CHECK {
        }
    }
    real_server 10.0.1.2 80 {
        inhibit_on_failure off
        TCP_CHECK {
            alpha no
        }
    }
}`)
	r := cfg.Services[0].Reals
	got := []any{r[0].Checks[0].Retry, r[0].Checks[0].Timeout, r[0].InhibitOnFailure, r[0].Checks[0].Alpha,
		r[1].Checks[0].Retry, r[1].InhibitOnFailure, r[1].Checks[0].Alpha}
	want := []any{2, 7 * time.Second, true, true, 6, false, false}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestQuorumSorry: quorum, hysteresis and the sorry server carry over;
// keepalived's default quorum 1 is havsd's default.
func TestQuorumSorry(t *testing.T) {
	for _, tc := range []struct {
		name, lines  string
		quorum, hyst int
		sorry        string
	}{
		{"defaults", "", 0, 0, ""},
		{"quorum 1", "quorum 1", 0, 0, ""},
		{"quorum and hysteresis", "quorum 3\n hysteresis 1\n sorry_server 10.0.2.1 80\n sorry_server_lvs_method DR", 3, 1, "10.0.2.1:80 dr"},
		{"sorry without port takes the service's", "sorry_server 10.0.2.1", 0, 0, "10.0.2.1:80 nat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := convert(t, "virtual_server 10.0.0.100 80 {\n "+tc.lines+
				"\n real_server 10.0.1.1 80 {\n weight 2\n }\n real_server 10.0.1.2 80 {\n weight 2\n }\n}\n")
			vs := cfg.Services[0]
			sorry := ""
			if vs.Sorry != nil {
				sorry = fmt.Sprintf("%s %s", netip.AddrPortFrom(vs.Sorry.Dest.Addr, vs.Sorry.Dest.Port), forwardName(vs.Sorry))
			}
			if vs.Quorum != tc.quorum || vs.Hysteresis != tc.hyst || sorry != tc.sorry {
				t.Errorf("quorum %d hysteresis %d sorry %q, want %d %d %q", vs.Quorum, vs.Hysteresis, sorry, tc.quorum, tc.hyst, tc.sorry)
			}
		})
	}
}

func forwardName(r *conf.RealServer) string {
	for name, f := range forwards {
		if f == r.Dest.Forward {
			return name
		}
	}
	return "?"
}

// TestPreemption: keepalived's rules for priority, state, nopreempt and
// preempt_delay.
func TestPreemption(t *testing.T) {
	for _, tc := range []struct {
		name, lines string
		prio        uint8
		preempt     bool
		delay       time.Duration
		note        string
	}{
		{"defaults", "", 100, true, 0, ""},
		{"nopreempt with BACKUP", "state BACKUP\n priority 50\n nopreempt", 50, false, 0, ""},
		{"nopreempt needs BACKUP", "state MASTER\n priority 150\n nopreempt", 150, true, 0, "clears nopreempt with state MASTER"},
		{"nopreempt without state", "priority 150\n nopreempt", 150, false, 0, ""},
		{"nopreempt at 255", "priority 255\n nopreempt", 255, true, 0, "clears nopreempt at priority 255"},
		{"MASTER without priority is the owner", "state MASTER", 255, true, 0, "priority 255"},
		{"preempt_delay", "state BACKUP\n preempt_delay 12.5", 100, true, 12500 * time.Millisecond, ""},
		{"preempt_delay with MASTER", "state MASTER\n priority 100\n preempt_delay 12", 100, true, 0, "clears preempt_delay with state MASTER"},
		{"preempt_delay with nopreempt", "nopreempt\n preempt_delay 12", 100, false, 0, "clears preempt_delay with nopreempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := convert(t, vrrpHead+" "+tc.lines+"\n}\n")
			in := cfg.Instances[0]
			if in.Priority != tc.prio || in.Preempt != tc.preempt || in.PreemptDelay != tc.delay {
				t.Errorf("priority %d preempt %v delay %s, want %d %v %s", in.Priority, in.Preempt, in.PreemptDelay, tc.prio, tc.preempt, tc.delay)
			}
			if tc.note != "" && !hasDiag(diags, Note, tc.note) {
				t.Errorf("no note %q in %v", tc.note, diags)
			}
		})
	}
}

func hasDiag(ds Diagnostics, s Severity, text string) bool {
	for _, d := range ds {
		if d.Severity == s && strings.Contains(d.String(), text) {
			return true
		}
	}
	return false
}

// TestAdvert: the default advert interval is 1s and the version 2 (or the
// global vrrp_version); IPv6 runs version 3; v2 rounds to seconds.
func TestAdvert(t *testing.T) {
	for _, tc := range []struct {
		name, global, lines, vip string
		version                  int
		advert                   time.Duration
	}{
		{"defaults", "", "", "10.0.0.100/24", 2, time.Second},
		{"global vrrp_version", "vrrp_version 3", "advert_int 0.25", "10.0.0.100/24", 3, 250 * time.Millisecond},
		{"instance version wins", "vrrp_version 3", "version 2", "10.0.0.100/24", 2, time.Second},
		{"v2 rounds to seconds", "", "advert_int 2.4", "10.0.0.100/24", 2, 2 * time.Second},
		{"IPv6 is version 3", "", "advert_int 3", "2001:db8::1/64", 3, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "global_defs {\n " + tc.global + "\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 9\n " +
				tc.lines + "\n virtual_ipaddress {\n  " + tc.vip + "\n }\n}\n"
			cfg, _ := convert(t, src)
			in := cfg.Instances[0]
			if in.Version != tc.version || in.AdvertInterval != tc.advert {
				t.Errorf("version %d advert %s, want %d %s", in.Version, in.AdvertInterval, tc.version, tc.advert)
			}
		})
	}
}

// TestGARP: keepalived's gratuitous ARP settings, global and per instance.
func TestGARP(t *testing.T) {
	for _, tc := range []struct {
		name, global, lines string
		want                vrrp.GARP
	}{
		{"defaults: 5, then 5 after 5s", "", "", vrrp.GARP{Count: 5, RepeatDelay: 5 * time.Second, RepeatCount: 5}},
		{"global", "vrrp_garp_master_delay 10\n vrrp_garp_master_repeat 3\n vrrp_garp_interval 0.001\n vrrp_garp_master_refresh 60",
			"", vrrp.GARP{Count: 3, Interval: time.Millisecond, RepeatDelay: 10 * time.Second, RepeatCount: 3, Refresh: time.Minute}},
		{"instance beats global", "vrrp_garp_master_repeat 3", "garp_master_repeat 1\n garp_master_delay 0",
			vrrp.GARP{Count: 1, RepeatDelay: 0, RepeatCount: 5}},
		{"vrrp_min_garp", "vrrp_min_garp", "", vrrp.GARP{Count: 1, RepeatCount: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := convert(t, "global_defs {\n "+tc.global+"\n}\n"+vrrpHead+" "+tc.lines+"\n}\n")
			if d := cmp.Diff(tc.want, cfg.Instances[0].GARP); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestTrackWeights: vrrp_script weights, overridden per instance and
// inherited through sync groups; track_interface keeps keepalived's signs.
func TestTrackWeights(t *testing.T) {
	cfg, _ := convert(t, `vrrp_script up {
    script /bin/true
    weight 10
}
vrrp_script down {
    script "/bin/false x"
    weight -20
    interval 3
}
vrrp_sync_group G {
    group {
        VI_1
    }
    track_script {
        down weight -5
        grp
    }
}
vrrp_script grp {
    script /bin/true
}
`+vrrpHead+` track_script {
        up
        down weight -30
    }
    track_interface {
        eth1 weight 15
        eth2 weight -25
        eth3
    }
}
`)
	wantRefs := []track.Ref{{Key: track.Key{Kind: track.KindScript, Name: "up"}, Weight: 10},
		{Key: track.Key{Kind: track.KindScript, Name: "down"}, Weight: -30},
		{Key: track.Key{Kind: track.KindScript, Name: "grp"}, Weight: 0}}
	if d := cmp.Diff(wantRefs, cfg.Trackers.Refs["VI_1"]); d != "" {
		t.Errorf("refs (-want +got):\n%s", d)
	}
	wantIf := []conf.InterfaceWeight{{Name: "eth1", Weight: 15}, {Name: "eth2", Weight: -25}, {Name: "eth3", Weight: 0}}
	if d := cmp.Diff(wantIf, cfg.Trackers.Interfaces["VI_1"]); d != "" {
		t.Errorf("interfaces (-want +got):\n%s", d)
	}
	s := cfg.Trackers.Spec.Scripts[1]
	if s.Interval != 3*time.Second || s.Timeout != 3*time.Second || !cmp.Equal(s.Argv, []string{"/bin/false", "x"}) {
		t.Errorf("script down = %+v", s)
	}
}

// TestHTTPCheck: urls, status codes, virtualhost and SNI.
func TestHTTPCheck(t *testing.T) {
	cfg, _ := convert(t, `virtual_server 10.0.0.100 443 {
    virtualhost vs.example
    real_server 10.0.1.1 443 {
        SSL_GET {
            url {
                path /a
                status_code 200 300-302
            }
            url {
                path /b
                virtualhost url.example
                digest ABCDEF0123456789ABCDEF0123456789
            }
            connect_port 8443
            enable_sni
        }
    }
}`)
	cs := cfg.Services[0].Reals[0].Checks
	if len(cs) != 2 {
		t.Fatalf("%d checks, want one per url", len(cs))
	}
	type h struct{ Kind, Target, Path, Host, SNI, Digest, Status string }
	got := []h{}
	for _, c := range cs {
		st := ""
		for _, r := range c.HTTP.Status {
			st += fmt.Sprintf("%d-%d ", r.Lo, r.Hi)
		}
		got = append(got, h{c.Kind.String(), c.Target.String(), c.HTTP.Path, c.HTTP.Host, c.HTTP.TLSServerName, c.HTTP.Digest, st})
	}
	want := []h{{checks.KindHTTPS.String(), "10.0.1.1:8443", "/a", "vs.example", "vs.example", "", "200-200 300-302 "},
		{checks.KindHTTPS.String(), "10.0.1.1:8443", "/b", "url.example", "url.example", "abcdef0123456789abcdef0123456789", ""}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestLeftOut: a keyword havsd cannot express is one located diagnostic
// with what it does and the closest equivalent; unknown keywords too.
func TestLeftOut(t *testing.T) {
	_, diags := convert(t, vrrpHead+" use_vmac\n smtp_alert\n florp 1\n}\n")
	want := []string{
		"k.conf:7: not converted: use_vmac: puts the virtual addresses on a macvlan/ipvlan with the VRRP virtual MAC; in havsd: havsd uses the interface's own MAC and gratuitous ARP",
		"k.conf:8: not converted: smtp_alert: sends e-mail alerts; in havsd: notify commands can send mail",
		"k.conf:9: not converted: florp: unknown keyword in vrrp_instance; keepalived ignores it with a warning",
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !diags.LeftOut() || diags.HasErrors() {
		t.Errorf("LeftOut %v HasErrors %v", diags.LeftOut(), diags.HasErrors())
	}
}

// TestProtocolDefault: without protocol keepalived programs a UDP service
// (found by the IPVS oracle in the VM); the conversion does the same and
// says so.
func TestProtocolDefault(t *testing.T) {
	for _, tc := range []struct {
		line string
		want lvs.Protocol
	}{{"", lvs.UDP}, {"protocol TCP", lvs.TCP}, {"protocol sctp", lvs.SCTP}} {
		cfg, diags := convert(t, "virtual_server 10.0.0.1 80 {\n "+tc.line+"\n real_server 10.0.0.2 80 {\n }\n}\n")
		if got := cfg.Services[0].Service.Key.Proto; got != tc.want {
			t.Errorf("%q: protocol %v, want %v", tc.line, got, tc.want)
		}
		if noted := hasDiag(diags, Note, "no protocol set - defaulting to UDP"); noted != (tc.line == "") {
			t.Errorf("%q: note %v", tc.line, noted)
		}
	}
}

// TestParityKeywords: keywords havsd gained beside this converter
// (ipvs_sync, dont_track_primary, sorry_server_inhibit, notify, notify_fifo).
func TestParityKeywords(t *testing.T) {
	cfg, diags := convert(t, `global_defs {
    lvs_sync_daemon eth1 VI_1 id 9 port 9000 ttl 2
    notify_fifo /run/ka.fifo
}
`+vrrpHead+` dont_track_primary
    notify "/bin/echo any"
}
virtual_server 10.0.0.100 80 {
    protocol TCP
    sorry_server 10.0.0.9 80
    sorry_server_inhibit
    real_server 10.0.1.1 80 {
    }
}
`)
	if diags.LeftOut() {
		t.Errorf("left out: %v", diags)
	}
	want := conf.IPVSSync{Interface: "eth1", Instance: "VI_1", SyncID: 9, Port: 9000, TTL: 2}
	if cfg.Global.Sync == nil || !cmp.Equal(*cfg.Global.Sync, want, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
		t.Errorf("sync %+v, want %+v", cfg.Global.Sync, want)
	}
	in := cfg.Instances[0]
	if !in.DontTrackPrimary || !cmp.Equal(in.Notify.Generic, []string{"/bin/echo", "any"}) || cfg.Global.NotifyFIFO != "/run/ka.fifo" {
		t.Errorf("dont_track_primary %v, notify %q, fifo %q", in.DontTrackPrimary, in.Notify.Generic, cfg.Global.NotifyFIFO)
	}
	if s := cfg.Services[0].Sorry; s == nil || !s.InhibitOnFailure {
		t.Errorf("sorry_server_inhibit lost: %+v", s)
	}
	// The old spelling in an instance: that instance, its VRID as sync id.
	cfg, _ = convert(t, vrrpHead+" lvs_sync_daemon_interface eth2\n}\n")
	if s := cfg.Global.Sync; s == nil || s.Interface != "eth2" || s.Instance != "VI_1" || s.SyncID != 7 {
		t.Errorf("old spelling: %+v", s)
	}
}

// TestRealPorts: the ports keepalived gives real and sorry servers.
func TestRealPorts(t *testing.T) {
	for _, tc := range []struct {
		name, vs, method, real string
		want                   string
	}{
		{"nat without port takes the service's", "10.0.0.1 80", "NAT", "10.0.1.1", "10.0.1.1:80"},
		{"nat maps ports", "10.0.0.1 80", "NAT", "10.0.1.1 8080", "10.0.1.1:8080"},
		{"dr is reset to the service's", "10.0.0.1 80", "DR", "10.0.1.1 8080", "10.0.1.1:80"},
		{"tun without port", "10.0.0.1 80", "TUN", "10.0.1.1", "10.0.1.1:80"},
		{"fwmark dr is cleared", "fwmark 3", "DR", "10.0.1.1 80", "10.0.1.1:0"},
		{"fwmark nat keeps it", "fwmark 3", "NAT", "10.0.1.1 80", "10.0.1.1:80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := convert(t, "virtual_server "+tc.vs+" {\n protocol TCP\n lvs_method "+tc.method+
				"\n persistence_timeout 60\n real_server "+tc.real+" {\n }\n}\n")
			d := cfg.Services[0].Reals[0].Dest
			if got := netip.AddrPortFrom(d.Addr, d.Port).String(); got != tc.want {
				t.Errorf("real server %s, want %s", got, tc.want)
			}
		})
	}
}

// TestHooks: quorum_up/quorum_down and notify_up/notify_down commands, and
// omega (the down notifiers at shutdown).
func TestHooks(t *testing.T) {
	cfg, diags := convert(t, `virtual_server 10.0.0.1 80 {
    protocol TCP
    quorum_up "/bin/echo up 10.0.0.1"
    quorum_down /bin/true
    omega
    real_server 10.0.1.1 80 {
        notify_up "/bin/echo rs up"
        notify_down /bin/false
    }
}
`)
	vs := cfg.Services[0]
	got := [][]string{vs.QuorumUp, vs.QuorumDown, vs.Reals[0].NotifyUp, vs.Reals[0].NotifyDown}
	want := [][]string{{"/bin/echo", "up", "10.0.0.1"}, {"/bin/true"}, {"/bin/echo", "rs", "up"}, {"/bin/false"}}
	if d := cmp.Diff(want, got); d != "" || diags.LeftOut() {
		t.Errorf("(-want +got):\n%s\n%v", d, diags)
	}
	if !vs.Omega {
		t.Error("omega lost")
	}
	if _, diags := convert(t, "virtual_server 10.0.0.1 80 {\n protocol TCP\n omega 1\n}\n"); !hasDiag(diags, NotConverted, "k.conf:3: not converted: omega 1: extra words") {
		t.Errorf("omega with an argument: no diagnostic: %v", diags)
	}
}
