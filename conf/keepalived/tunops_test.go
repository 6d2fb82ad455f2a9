package keepalived

import (
	"testing"

	"github.com/havsd/havsd/lvs"
)

// TestOpsAndTunnels: ops is kept on UDP services and dropped elsewhere,
// as keepalived programs it; lvs_method TUN's type, port and checksum
// options reach the real servers, a real server's own lvs_method winning.
func TestOpsAndTunnels(t *testing.T) {
	cfg, diags := convert(t, vrrpHead+`}
virtual_server 10.0.0.100 53 {
  protocol UDP
  ops
  lvs_method TUN type gue port 6080 remcsum
  real_server 10.0.1.1 53 {
  }
  real_server 10.0.1.2 53 {
    lvs_method TUN type gre csum
  }
  real_server 10.0.1.3 53 {
    lvs_method NAT
  }
}
virtual_server 10.0.0.100 80 {
  protocol TCP
  ops
  lvs_method TUN
  real_server 10.0.1.1 80 {
  }
}
`)
	udp, tcp := cfg.Services[0], cfg.Services[1]
	if udp.Service.Key.Proto != lvs.UDP {
		udp, tcp = tcp, udp
	}
	if !udp.Service.OnePacket || tcp.Service.OnePacket {
		t.Errorf("OnePacket udp %v tcp %v, want true false", udp.Service.OnePacket, tcp.Service.OnePacket)
	}
	if !hasDiag(diags, Note, "one-packet scheduling acts on UDP only") {
		t.Errorf("no note for the dropped ops: %v", diags)
	}
	want := map[string]lvs.Destination{
		"10.0.1.1": {TunType: lvs.TunGUE, TunPort: 6080, TunFlags: lvs.TunRemCsum},
		"10.0.1.2": {TunType: lvs.TunGRE, TunFlags: lvs.TunCsum},
		"10.0.1.3": {},
	}
	for _, r := range udp.Reals {
		w := want[r.Dest.Addr.String()]
		if r.Dest.TunType != w.TunType || r.Dest.TunPort != w.TunPort || r.Dest.TunFlags != w.TunFlags {
			t.Errorf("%s: tun %s %d %d, want %s %d %d", r.Dest.Addr, r.Dest.TunType, r.Dest.TunPort, r.Dest.TunFlags, w.TunType, w.TunPort, w.TunFlags)
		}
	}
	if d := tcp.Reals[0].Dest; d.Forward != lvs.Tunnel || d.TunType != lvs.TunIPIP {
		t.Errorf("plain TUN server = %+v", d)
	}
}

// TestTunOptionErrors: options keepalived rejects are reported, not
// guessed at.
func TestTunOptionErrors(t *testing.T) {
	for _, opts := range []string{"type gue", "type gre port 1", "type ipip csum", "type gre remcsum", "type vxlan", "port x"} {
		t.Run(opts, func(t *testing.T) {
			_, diags := convert(t, vrrpHead+`}
virtual_server 10.0.0.100 80 {
  protocol TCP
  lvs_method TUN `+opts+`
  real_server 10.0.1.1 80 {
  }
}
`)
			if !hasDiag(diags, NotConverted, "keepalived ignores the setting") {
				t.Errorf("no diagnostic for %q: %v", opts, diags)
			}
		})
	}
}
