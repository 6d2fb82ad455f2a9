package lvs

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDaemonRoundTrip(t *testing.T) {
	for _, d := range []SyncDaemon{
		{Role: SyncMaster, Interface: "eth1", SyncID: 51},
		{Role: SyncBackup, Interface: "bond0.12", SyncID: 0, Port: 9000, TTL: 2, MaxLen: 1400, Group: netip.MustParseAddr("239.1.2.3")},
		{Role: SyncBackup, Interface: "eth1", SyncID: 255, Group: netip.MustParseAddr("ff02::81")},
	} {
		t.Run(d.String(), func(t *testing.T) {
			w := attrWriter{b: appendGenl(nil, ipvsCmdNewDaemon)}
			appendDaemon(&w, d, true)
			got, err := parseDaemonMsg(w.b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("round trip (-sent +parsed):\n%s", diff)
			}
		})
	}
	// What the 6.1 kernel answers for ipvsadm --start-daemon backup
	// --mcast-interface eth0 --syncid 51: the port in host order.
	kernel := append([]byte{ipvsCmdGetDaemon, 1, 0, 0}, attr(ipvsCmdAttrDaemon, attrs(
		attr(daemonAttrState, u32(stateBackup)), attr(daemonAttrMcastIfn, []byte("eth0\x00")),
		attr(daemonAttrSyncID, u32(51)), attr(daemonAttrMaxLen, u16(1472)),
		attr(daemonAttrPort, u16(8848)), attr(daemonAttrTTL, []byte{1}),
		attr(daemonAttrMcastGroup, []byte{224, 0, 0, 81})))...)
	want := SyncDaemon{Role: SyncBackup, Interface: "eth0", SyncID: 51, MaxLen: 1472, Port: 8848, TTL: 1, Group: DefaultSyncGroup}
	if got, err := parseDaemonMsg(kernel); err != nil || got != want {
		t.Errorf("kernel answer parses as %+v, %v; want %+v", got, err, want)
	}
	// A stop request carries the state only.
	w := attrWriter{b: appendGenl(nil, ipvsCmdDelDaemon)}
	appendDaemon(&w, SyncDaemon{Role: SyncBackup, Interface: "eth1", SyncID: 3}, false)
	if got, err := parseDaemonMsg(w.b); err != nil || got != (SyncDaemon{Role: SyncBackup}) {
		t.Errorf("stop request parses as %+v, %v", got, err)
	}
}

func TestPlanSync(t *testing.T) {
	kernel := func(d SyncDaemon) SyncDaemon { // as GET_DAEMON reports it
		d.Group, d.Port, d.TTL, d.MaxLen = DefaultSyncGroup, DefaultSyncPort, DefaultSyncTTL, 1472
		return d
	}
	m := SyncDaemon{Role: SyncMaster, Interface: "eth1", SyncID: 51}
	b := SyncDaemon{Role: SyncBackup, Interface: "eth1", SyncID: 51}
	b7 := b
	b7.SyncID = 7
	for _, tc := range []struct {
		name             string
		desired, running []SyncDaemon
		want             []string
	}{
		{"nothing", nil, nil, nil},
		{"start both", []SyncDaemon{m, b}, nil, []string{"start " + m.String(), "start " + b.String()}},
		{"defaults as the kernel fills them in", []SyncDaemon{m, b}, []SyncDaemon{kernel(m), kernel(b)}, nil},
		{"one stopped behind our back", []SyncDaemon{m, b}, []SyncDaemon{kernel(b)}, []string{"start " + m.String()}},
		{"changed sync id restarts that daemon", []SyncDaemon{m, b7}, []SyncDaemon{kernel(m), kernel(b)},
			[]string{"stop " + kernel(b).String(), "start " + b7.String()}},
		{"no longer wanted", nil, []SyncDaemon{kernel(m)}, []string{"stop " + kernel(m).String()}},
		{"explicit port differs", []SyncDaemon{{Role: SyncMaster, Interface: "eth1", SyncID: 51, Port: 9000}}, []SyncDaemon{kernel(m)},
			[]string{"stop " + kernel(m).String(), "start " + SyncDaemon{Role: SyncMaster, Interface: "eth1", SyncID: 51, Port: 9000}.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range PlanSync(tc.desired, tc.running) {
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
