package netns

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

const vrEvilAddr = "10.9.0.66"

// vrSend sends raw VRRP payloads from node with the given TTL to dst.
func vrSend(t *testing.T, n *vrnet.Node, ttl int, dst string, payloads ...[]byte) {
	t.Helper()
	err := n.Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return err
		}
		if err := p.SetMulticastTTL(ttl); err != nil {
			return err
		}
		if err := p.SetTTL(ttl); err != nil {
			return err
		}
		to := &net.IPAddr{IP: net.ParseIP(dst)}
		for _, b := range payloads {
			if _, err := p.WriteTo(b, nil, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sending from %s: %v", n.Name, err)
	}
}

// vrAdvert builds a v3 advert from the evil node to dst, then lets mutate
// change the encoded bytes.
func vrAdvert(prio uint8, dst string, addrs []string, mutate func(p *vrrp.Packet)) []byte {
	p := vrrp.Packet{Version: 3, Type: vrrp.TypeAdvertisement, VRID: 51, Priority: prio, AdvertInterval: 100 * time.Millisecond}
	for _, a := range addrs {
		p.Addresses = append(p.Addresses, netip.MustParseAddr(a))
	}
	if mutate != nil {
		mutate(&p)
	}
	b, err := p.Seal(netip.MustParseAddr(vrEvilAddr), netip.MustParseAddr(dst))
	if err != nil {
		panic(err)
	}
	return b
}

func TestVRRPHostileAdverts(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	d1, d2 := l.startPair(t, vrConfig("d1", 200, 3, iv), vrConfig("d2", 100, 3, iv), mdi)
	group := vrrp.MulticastIPv4.String()
	vip := []string{vrVIP}

	badSum := vrAdvert(255, group, vip, nil)
	badSum[6] ^= 0xff
	v1 := vrAdvert(255, group, vip, nil)
	v1[0] = 0x11
	type2 := vrAdvert(255, group, vip, func(p *vrrp.Packet) { p.Type = 2 })
	sends := []struct {
		ttl int
		b   []byte
	}{
		{64, vrAdvert(255, group, vip, nil)},
		{255, badSum},
		{255, vrAdvert(255, group, vip, func(p *vrrp.Packet) { p.VRID = 52 })},
		{255, vrAdvert(255, group, vip, nil)[:5]},
		{255, vrAdvert(255, group, vip, nil)[:10]},
		{255, v1},
		{255, type2},
		// Another address list is no drop (RFC 5798 §7.1): priority 199
		// keeps d1 master and d2 backup; the mismatch is counted.
		{255, vrAdvert(199, group, []string{vrVIP, "10.9.0.101"}, nil)},
		{255, vrAdvert(199, group, []string{"10.9.0.101"}, nil)},
	}
	before := len(d2.Events())
	for _, s := range sends {
		vrSend(t, l.evil, s.ttl, group, s.b)
	}
	want := map[string]uint64{"ttl": 1, "checksum": 1, "vrid": 1, "truncated": 2, "version": 1, "type": 1}
	var got map[string]uint64
	vrnet.WaitFor(t, "drops and mismatches counted", 5*time.Second, func() bool {
		st := d1.Status()
		got = st.Drops
		return dropsString(got) == dropsString(want) && st.VIPMismatchAdverts == 2 &&
			len(st.PeerVIPMismatch) == 1 && st.PeerVIPMismatch[0].Peer.String() == vrEvilAddr
	})
	t.Logf("d1 drops: %s", dropsString(got))

	// A flood of 10k bad adverts: dropped and counted, no state change.
	flood := make([][]byte, 10000)
	for i := range flood {
		flood[i] = badSum
	}
	start := time.Now()
	vrSend(t, l.evil, 255, group, flood...)
	vrnet.WaitFor(t, "flood counted", 10*time.Second, func() bool { return d1.Status().Drops["checksum"] > 1 })
	time.Sleep(3 * iv)
	s1 := d1.Status()
	t.Logf("flood of %d sent in %v: d1 counted %d checksum drops (any missing were lost in socket buffers); d1 %v", len(flood), time.Since(start).Round(time.Millisecond), s1.Drops["checksum"], s1.State)
	if d1.Exited() || d2.Exited() || d1.State() != vrrp.StateMaster || d2.State() != vrrp.StateBackup || len(d2.Events()) != before {
		t.Fatalf("after hostile adverts: d1 %v (exited %v), d2 %v (exited %v), d2 transitions %d→%d",
			d1.State(), d1.Exited(), d2.State(), d2.Exited(), before, len(d2.Events()))
	}

	// A well-formed priority-255 advert from a stranger in multicast mode:
	// the RFC says obey it (it may be the address owner).
	vrSend(t, l.evil, 255, group, vrAdvert(255, group, vip, nil))
	d1.WaitState(vrrp.StateBackup, 2*time.Second)
	// The stranger stays silent: d1 takes over again after Master_Down_Interval.
	took := d1.WaitState(vrrp.StateMaster, 2*mdi+time.Second)
	t.Logf("stranger with priority 255 obeyed; d1 MASTER again after %v", took.Round(time.Millisecond))
}

func TestVRRPHostileUnicast(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	d1, d2 := l.startPair(t, vrUnicast(vrConfig("d1", 200, 3, iv), "10.9.0.1", "10.9.0.2"), vrUnicast(vrConfig("d2", 100, 3, iv), "10.9.0.2", "10.9.0.1"), mdi)
	for _, dst := range []string{"10.9.0.1", "10.9.0.2"} {
		vrSend(t, l.evil, 255, dst, vrAdvert(255, dst, []string{vrVIP}, nil))
	}
	vrnet.WaitFor(t, "not_peer drops", 5*time.Second, func() bool {
		return d1.Status().Drops["not_peer"] == 1 && d2.Status().Drops["not_peer"] == 1
	})
	time.Sleep(2 * iv)
	if d1.State() != vrrp.StateMaster || d2.State() != vrrp.StateBackup {
		t.Fatalf("after a stranger's priority-255 advert in unicast mode: d1 %v d2 %v", d1.State(), d2.State())
	}
	if s := d2.Status(); s.Received == 0 {
		t.Errorf("d2 received no advert from its peer")
	}
}
