package bgp

import (
	"context"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

type apiutilPeerEvent = apiutil.WatchEventMessage_PeerEvent

// connectRetry is how often GoBGP retries a neighbour it cannot connect to
// (its default is 120 s, too slow for a director that wants its routes out).
const connectRetry = 5 * time.Second

// peerConfig is GoBGP's neighbour configuration for n: one address family,
// the neighbour's own, so next hop self is always an address of that family.
func peerConfig(n Neighbor) *api.Peer {
	fam := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	if n.Address.Is6() && !n.Address.Is4In6() {
		fam.Afi = api.Family_AFI_IP6
	}
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: n.Address.String(),
			PeerAsn:         n.ASN,
			AuthPassword:    n.Password,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:      seconds(connectRetry),
			HoldTime:          seconds(n.HoldTime),
			KeepaliveInterval: seconds(n.keepalive()),
		}},
		Transport: &api.Transport{RemotePort: uint32(n.Port)},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: fam, Enabled: true}}},
	}
	if n.Source.IsValid() {
		p.Transport.LocalAddress = n.Source.String()
	}
	if n.Multihop > 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(n.Multihop)}
	}
	return p
}

// stateName is the lower-case name of a GoBGP session state.
func stateName(s gbgp.FSMState) string {
	switch s {
	case gbgp.BGP_FSM_IDLE:
		return "idle"
	case gbgp.BGP_FSM_CONNECT:
		return "connect"
	case gbgp.BGP_FSM_ACTIVE:
		return "active"
	case gbgp.BGP_FSM_OPENSENT:
		return "opensent"
	case gbgp.BGP_FSM_OPENCONFIRM:
		return "openconfirm"
	case gbgp.BGP_FSM_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// apiStateName is the lower-case name of a session state from ListPeer.
func apiStateName(s api.PeerState_SessionState) string {
	switch s {
	case api.PeerState_SESSION_STATE_IDLE:
		return "idle"
	case api.PeerState_SESSION_STATE_CONNECT:
		return "connect"
	case api.PeerState_SESSION_STATE_ACTIVE:
		return "active"
	case api.PeerState_SESSION_STATE_OPENSENT:
		return "opensent"
	case api.PeerState_SESSION_STATE_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_SESSION_STATE_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// onPeerEvent runs on GoBGP's watcher goroutine: it hands a session state
// change to the owner.
func (o *owner) onPeerEvent(ctx context.Context, ev *apiutilPeerEvent) {
	if ev.Type != apiutil.PEER_EVENT_STATE {
		return
	}
	st := ev.Peer.State
	reason := st.DisconnectMessage
	if st.SessionState == gbgp.BGP_FSM_ESTABLISHED {
		reason = "session established"
	}
	o.s.post(ctx, event{addr: ev.Peer.Conf.NeighborAddress, state: stateName(st.SessionState), reason: reason}, true)
}
