package conf

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

const bgpGood = `
bgp {
  asn         = 65001
  router_id   = "10.0.0.11"
  communities = ["65000:100"]
  neighbor "10.0.0.1" {
    asn       = 65000
    hold_time = "9s"
  }
  neighbor "2001:db8::1" {
    asn      = 65000
    password = "s3cret"
    source   = "2001:db8::11"
    multihop = 2
    port     = 1179
  }
}

virtual_service "web" {
  address  = "192.0.2.10:80"
  announce = "bgp"
  real_server "10.0.1.1:80" {}
}

virtual_service "api" {
  address   = "192.0.2.11:80"
  announce  = "bgp"
  scheduler = "mh"
  sched_flags = ["mh-port"]
  real_server "10.0.1.1:80" {}
}

virtual_service "plain" {
  address = "192.0.2.12:80"
  real_server "10.0.1.1:80" {}
}
`

func TestBGPCompile(t *testing.T) {
	cfg := mustLoad(t, bgpGood)
	want := &BGP{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), Communities: []string{"65000:100"},
		Neighbors: []BGPNeighbor{
			{Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, HoldTime: 9 * time.Second},
			{Address: netip.MustParseAddr("2001:db8::1"), ASN: 65000, Password: "s3cret", Source: netip.MustParseAddr("2001:db8::11"), Multihop: 2, Port: 1179},
		}}
	if diff := cmp.Diff(want, cfg.BGP, cmpAddrs); diff != "" {
		t.Errorf("BGP (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ svc, announce, sched string }{
		{"web", AnnounceBGP, "mh"}, // the default for BGP
		{"api", AnnounceBGP, "mh"},
		{"plain", AnnounceVRRP, DefaultScheduler},
	} {
		i := slices.IndexFunc(cfg.Services, func(s VirtualService) bool { return s.Name == tc.svc })
		if s := cfg.Services[i]; s.Announce != tc.announce || s.Service.Scheduler != tc.sched {
			t.Errorf("service %s: announce %q scheduler %q, want %q %q", tc.svc, s.Announce, s.Service.Scheduler, tc.announce, tc.sched)
		}
	}
	if mustLoad(t, `virtual_service "x" {
  address = "192.0.2.1:80"
}`).BGP != nil {
		t.Error("a config without a bgp block has a BGP")
	}
}

// TestBGPErrors checks each error issue 17 asks havsd check for, at its
// file:line:col (testdata/bad/bgp*.hcl hold them all with the rendering).
func TestBGPErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, summary, at string
	}{
		{"announced without a bgp block", `virtual_service "web" {
  address  = "192.0.2.10:80"
  announce = "bgp"
}`, "No bgp block", "t.hcl:3:14"},
		{"neighbour without an ASN", `bgp {
  asn       = 65001
  router_id = "10.0.0.11"
  neighbor "10.0.0.1" {
    hold_time = "9s"
  }
}`, "Neighbour without asn", "t.hcl:4:12"},
		{"router id not IPv4", `bgp {
  asn       = 65001
  router_id = "2001:db8::1"
}`, "Invalid router_id", "t.hcl:3:15"},
		{"router id not an address", `bgp {
  asn       = 65001
  router_id = "director-1"
}`, "Invalid router_id", "t.hcl:3:15"},
		{"VIP also in a VRRP instance", `bgp {
  asn       = 65001
  router_id = "10.0.0.11"
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.10/24"]
}
virtual_service "web" {
  address  = "192.0.2.10:80"
  announce = "bgp"
}`, "VIP announced twice", "t.hcl:12:14"},
		{"bad community", `bgp {
  asn         = 65001
  router_id   = "10.0.0.11"
  communities = ["65000:1", "65000-2"]
}`, "Invalid community", "t.hcl:4:29"},
		{"duplicate neighbour", `bgp {
  asn       = 65001
  router_id = "10.0.0.11"
  neighbor "10.0.0.1" { asn = 65000 }
  neighbor "10.0.0.1" { asn = 65002 }
}`, "Duplicate neighbor", "t.hcl:5:12"},
		{"hold time below 3s", `bgp {
  asn       = 65001
  router_id = "10.0.0.11"
  neighbor "10.0.0.1" {
    asn       = 65000
    hold_time = "1s"
  }
}`, "Invalid hold_time", "t.hcl:6:17"},
		{"two bgp blocks", `bgp {
  asn       = 65001
  router_id = "10.0.0.11"
}
bgp {
  asn       = 65001
  router_id = "10.0.0.11"
}`, "Duplicate bgp block", "t.hcl:5:1"},
		{"missing asn", `bgp {
  router_id = "10.0.0.11"
}`, "Missing required argument", "t.hcl:1:5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := LoadBytes("t.hcl", []byte(tc.src))
			if cfg != nil {
				t.Fatal("loaded a bad config")
			}
			var got []string
			for _, d := range diags.Errs() {
				d := d.(*hcl.Diagnostic)
				at := fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
				if d.Summary == tc.summary && at == tc.at {
					return
				}
				got = append(got, d.Summary+" at "+at)
			}
			t.Errorf("want %q at %s; got %q", tc.summary, tc.at, got)
		})
	}
}

// TestBGPFamilyWarning: a VIP of a family no neighbour has is announced to
// nobody, which check says.
func TestBGPFamilyWarning(t *testing.T) {
	_, _, diags := LoadBytes("t.hcl", []byte(`bgp {
  asn       = 65001
  router_id = "10.0.0.11"
  neighbor "10.0.0.1" { asn = 65000 }
}
virtual_service "v6" {
  address  = "[2001:db8::10]:80"
  announce = "bgp"
}
virtual_service "v4" {
  address  = "192.0.2.10:80"
  announce = "bgp"
}`))
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%s at %d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column))
	}
	if diags.HasErrors() || !slices.Equal(got, []string{"No neighbour of this family at 7:14"}) {
		t.Errorf("diagnostics %q, want one warning for the IPv6 VIP", got)
	}
}

func TestBGPDiff(t *testing.T) {
	old := mustLoad(t, bgpGood)
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		bgp     []string
		svcAttr string
	}{
		{"unchanged", func(c *Config) {}, nil, ""},
		{"removed", func(c *Config) { c.BGP = nil }, []string{"bgp"}, ""},
		{"asn and communities", func(c *Config) { c.BGP.ASN = 65009; c.BGP.Communities = nil }, []string{"asn", "communities"}, ""},
		{"neighbour changed and added", func(c *Config) {
			c.BGP.Neighbors[0].HoldTime = 30 * time.Second
			c.BGP.Neighbors = append(c.BGP.Neighbors, BGPNeighbor{Address: netip.MustParseAddr("10.0.0.2"), ASN: 65000})
		}, []string{"neighbor 10.0.0.2", "neighbor 10.0.0.1"}, ""},
		{"announce", func(c *Config) { c.Services[2].Announce = AnnounceBGP }, nil, "announce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nw := mustLoad(t, bgpGood)
			tc.edit(nw)
			ch := Diff(old, nw)
			if diff := cmp.Diff(tc.bgp, ch.BGP, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Changes.BGP (-want +got):\n%s", diff)
			}
			var attrs []string
			for _, sc := range ch.ChangedServices {
				attrs = append(attrs, sc.Attrs...)
			}
			if tc.svcAttr != "" && !slices.Contains(attrs, tc.svcAttr) || tc.svcAttr == "" && len(attrs) > 0 {
				t.Errorf("service changes %v, want %q", attrs, tc.svcAttr)
			}
		})
	}
}

func TestBGPFormatRoundTrip(t *testing.T) {
	cfg := mustLoad(t, bgpGood)
	text := Format(cfg)
	back := mustLoad(t, string(text))
	if diff := cmp.Diff(cfg, back, cmpAddrs, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Load(Format(cfg)) != cfg (-want +got):\n%s\n%s", diff, text)
	}
	// A BGP service on wlc must say so: its default is mh.
	cfg.Services[0].Service.Scheduler = "wlc"
	if back := mustLoad(t, string(Format(cfg))); back.Services[0].Service.Scheduler != "wlc" {
		t.Errorf("scheduler wlc of a BGP service came back as %q", back.Services[0].Service.Scheduler)
	}
}
