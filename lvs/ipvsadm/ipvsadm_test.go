package ipvsadm

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm/ipvsadmtest"
)

var (
	addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
)

func tcp(addr string) lvs.ServiceKey {
	ap := netip.MustParseAddrPort(addr)
	return lvs.ServiceKey{Family: lvs.FamilyOf(ap.Addr()), Proto: lvs.TCP, Addr: ap.Addr(), Port: ap.Port()}
}

func dest(addr string, w int, f lvs.Forward) lvs.Destination {
	ap := netip.MustParseAddrPort(addr)
	return lvs.Destination{Addr: ap.Addr(), Port: ap.Port(), Weight: w, Forward: f}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		svcs []lvs.Service
		want string
	}{
		{
			name: "tutorial 4.1 nat rr, reals given out of order",
			svcs: []lvs.Service{{Key: tcp("172.0.0.30:80"), Scheduler: "rr", Destinations: []lvs.Destination{
				dest("192.168.1.20:80", 1, lvs.Masq), dest("192.168.1.10:80", 1, lvs.Masq)}}},
			want: "-A -t 172.0.0.30:80 -s rr\n" +
				"-a -t 172.0.0.30:80 -r 192.168.1.10:80 -m -w 1\n" +
				"-a -t 172.0.0.30:80 -r 192.168.1.20:80 -m -w 1\n",
		},
		{
			name: "fwmark with persistence after a plain service",
			svcs: []lvs.Service{
				{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 66}, Scheduler: "rr", Timeout: 3000 * time.Second,
					Destinations: []lvs.Destination{dest("192.168.0.101:0", 1, lvs.Route)}},
				{Key: tcp("192.168.0.100:443"), Scheduler: "wlc"},
			},
			want: "-A -t 192.168.0.100:443 -s wlc\n" +
				"-A -f 66 -s rr -p 3000\n" +
				"-a -f 66 -r 192.168.0.101:0 -g -w 1\n",
		},
		{
			name: "persistence netmask, pe, sh flags, tunnel, udp, sctp",
			svcs: []lvs.Service{
				{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 5060},
					Scheduler: "sh", Flags: lvs.FlagPort | lvs.FlagFallback, Timeout: 300 * time.Second, NetmaskBits: 24, PE: "sip",
					Destinations: []lvs.Destination{dest("10.0.1.1:5060", 3, lvs.Tunnel)}},
				{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.SCTP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 9}, Scheduler: "wrr", Flags: lvs.FlagSched3},
				{Key: tcp("10.0.0.1:80"), Scheduler: "mh", Flags: lvs.FlagPort, Timeout: 60 * time.Second, NetmaskBits: 32},
			},
			want: "-A -t 10.0.0.1:80 -s mh -p 60 -b mh-port\n" +
				"-A -u 10.0.0.1:5060 -s sh -p 300 -M 255.255.255.0 --pe sip -b sh-fallback,sh-port\n" +
				"-a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -i -w 3 --tun-type ipip\n" +
				"-A --sctp-service 10.0.0.1:9 -s wrr -b flag-3\n",
		},
		{
			name: "ipv6 service and ipv6 fwmark",
			svcs: []lvs.Service{
				{Key: lvs.ServiceKey{Family: lvs.IPv6, FWMark: 7, Proto: lvs.ProtoNone}, Scheduler: "lc", Timeout: time.Hour, NetmaskBits: 64,
					Destinations: []lvs.Destination{dest("[2001:db8::2]:0", 0, lvs.Route)}},
				{Key: tcp("[2001:db8::1]:80"), Scheduler: "wlc", Destinations: []lvs.Destination{dest("[2001:db8::10]:8080", 5, lvs.Masq)}},
			},
			want: "-A -t [2001:db8::1]:80 -s wlc\n" +
				"-a -t [2001:db8::1]:80 -r [2001:db8::10]:8080 -m -w 5\n" +
				"-A -f 7 -6 -s lc -p 3600 -M 64\n" +
				"-a -f 7 -6 -r [2001:db8::2]:0 -g -w 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Format(tt.svcs)); diff != "" {
				t.Errorf("Format (-want +got):\n%s", diff)
			}
			back, err := Parse(strings.NewReader(tt.want))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := Format(back); got != tt.want {
				t.Errorf("Format(Parse(x)) != x:\n%s", got)
			}
		})
	}
}

func TestFormatThresholds(t *testing.T) {
	d := dest("10.0.0.2:80", 1, lvs.Masq)
	d.UpperThreshold, d.LowerThreshold = 100, 50
	svcs := []lvs.Service{{Key: tcp("10.0.0.1:80"), Scheduler: "wlc", Destinations: []lvs.Destination{d}}}
	if got, want := Format(svcs), "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n"; got != want {
		t.Errorf("Format = %q, want %q (ipvsadm does not save thresholds)", got, want)
	}
	want := "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1 -x 100 -y 50\n"
	if got := FormatWith(svcs, Options{Thresholds: true}); got != want {
		t.Errorf("FormatWith = %q, want %q", got, want)
	}
	back, err := Parse(strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Normalize(svcs), back, addrCmp); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// TestParseSpellings checks the defaults and long spellings ipvsadm -R accepts.
func TestParseSpellings(t *testing.T) {
	in := `# tutorial section 3.3 style, hand written
--add-service --tcp-service 172.25.254.100:80 --scheduler=rr
-a -t 172.25.254.100:80 -r 192.168.0.30 -m
-a -t 172.25.254.100:80 --real-server=192.168.0.40 --masquerading --weight 2
-A -f 66 -p 3000

-a --fwmark-service 66 -r 192.168.0.101
-A -t 192.168.0.100:443 -s rr -p
-a -t 192.168.0.100:443 -r 192.168.0.102:80 --gatewaying
-A -u [2001:db8::1]:53 -s wrr -p 10 -M 48
-a -u [2001:db8::1]:53 -r 2001:db8::53 -m -x 10 -y 5
-A -t 192.168.0.100:0 -p 30 -M 255.255.0.0 -n
`
	want := "-A -t 172.25.254.100:80 -s rr\n" +
		"-a -t 172.25.254.100:80 -r 192.168.0.30:80 -m -w 1\n" +
		"-a -t 172.25.254.100:80 -r 192.168.0.40:80 -m -w 2\n" +
		"-A -t 192.168.0.100:0 -s wlc -p 30 -M 255.255.0.0\n" +
		"-A -t 192.168.0.100:443 -s rr -p 360\n" +
		"-a -t 192.168.0.100:443 -r 192.168.0.102:443 -g -w 1\n" +
		"-A -u [2001:db8::1]:53 -s wrr -p 10 -M 48\n" +
		"-a -u [2001:db8::1]:53 -r [2001:db8::53]:53 -m -w 1\n" +
		"-A -f 66 -s wlc -p 3000\n" +
		"-a -f 66 -r 192.168.0.101:0 -g -w 1\n"
	svcs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, Format(svcs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d := svcs[3].Destinations[0]; d.UpperThreshold != 10 || d.LowerThreshold != 5 {
		t.Errorf("thresholds = %d/%d, want 10/5", d.UpperThreshold, d.LowerThreshold)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in       string
		line     int
		contains string
	}{
		{"-A -t 1.2.3.4:80\n-A -t 1.2.3.4:80\n", 2, "already exists"},
		{"\n-a -t 1.2.3.4:80 -r 5.6.7.8\n", 2, "not defined"},
		{"-A -t 1.2.3.4:80 -s rr -b sh-port\n", 1, "incompatible scheduler flag"},
		{"-A -t 1.2.3.4\n", 1, "zero port"},
		{"-A -t host.example:80\n", 1, "illegal virtual server"},
		{"-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r ::1 -m\n", 2, "family"},
		{"-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -w 70000\n", 2, "illegal weight"},
		{"-A -t 1.2.3.4:80 -p 0\n", 1, "invalid timeout"},
		{"-A -t 1.2.3.4:80 -p 1 -M 255.0.255.0\n", 1, "not contiguous"},
		{"-A -f 0\n", 1, "invalid fwmark"},
		{"-A -6 -f 1\n", 1, "-6 used before -f"},
		{"-A -t 1.2.3.4:80 --bogus\n", 1, "unknown option"},
		{"-t 1.2.3.4:80\n", 1, "no command"},
		{"-A -t 1.2.3.4:80 -s\n", 1, "needs a value"},
		{"-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type vxlan\n", 2, "not ipip, gue or gre"},
		{"-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gre --tun-port 6080\n", 2, "only with --tun-type gue"},
		{"-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -m\n-a -t 1.2.3.4:80 -r 5.6.7.8:80\n", 3, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.contains, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a ParseError", tt.in, err)
			}
			if pe.Line != tt.line || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Parse(%q) = %v, want line %d containing %q", tt.in, err, tt.line, tt.contains)
			}
		})
	}
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		svcs := ipvsadmtest.Random(r)
		for _, opt := range []Options{{}, {Thresholds: true}} {
			text := FormatWith(svcs, opt)
			back, err := Parse(strings.NewReader(text))
			if err != nil {
				t.Fatalf("set %d: Parse(Format(x)): %v\n%s", i, err, text)
			}
			if again := FormatWith(back, opt); again != text {
				t.Fatalf("set %d: Format(Parse(Format(x))) differs:\n%s", i, cmp.Diff(text, again))
			}
			if opt.Thresholds {
				if diff := cmp.Diff(Normalize(svcs), back, addrCmp); diff != "" {
					t.Fatalf("set %d: Parse(Format(x)) != Normalize(x):\n%s", i, diff)
				}
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-A -t 172.0.0.30:80 -s rr\n-a -t 172.0.0.30:80 -r 192.168.1.10:80 -m -w 1\n")
	f.Add("-A -f 66 -6 -s rr -p 3000 -M 64\n-a -f 66 -6 -r [2001:db8::1]:0 -g -w 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		svcs, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		text := FormatWith(svcs, Options{Thresholds: true})
		back, err := Parse(strings.NewReader(text))
		if err != nil {
			t.Fatalf("Parse(Format(Parse(x))): %v\n%s", err, text)
		}
		if again := FormatWith(back, Options{Thresholds: true}); again != text {
			t.Fatalf("not stable:\n%s", cmp.Diff(text, again))
		}
	})
}

// TestTutorialRuleSets parses the tutorial's rule sets (examples/testdata)
// and prints them back unchanged.
func TestTutorialRuleSets(t *testing.T) {
	files, _ := filepath.Glob("../../examples/testdata/*.ipvsadm")
	if len(files) == 0 {
		t.Fatal("no rule sets")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for line := range strings.Lines(string(raw)) {
				if !strings.HasPrefix(line, "#") {
					want.WriteString(line)
				}
			}
			svcs, err := Parse(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), Format(svcs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseList reads the table ipvsadm -Ln prints, as an operator pastes
// it, into the rules it shows.
func TestParseList(t *testing.T) {
	in := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  172.25.254.100:80 wrr
  -> 192.168.0.101:80             Masq    2      0          0
  -> 192.168.0.102:8080           Masq    1      3          10
TCP  172.25.254.100:443 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0
  -> 10.1.0.11:443                Route   1      0          0
UDP  [2001:db8::1]:53 rr persistent 10 mask 48
  -> [2001:db8::53]:53            Tunnel  5      0          0
FWM  7 IPv6 wlc
  -> [2001:db8::7]:0              Route   1      0          0
`
	want := "-A -t 172.25.254.100:80 -s wrr\n" +
		"-a -t 172.25.254.100:80 -r 192.168.0.101:80 -m -w 2\n" +
		"-a -t 172.25.254.100:80 -r 192.168.0.102:8080 -m -w 1\n" +
		"-A -t 172.25.254.100:443 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port\n" +
		"-a -t 172.25.254.100:443 -r 10.1.0.11:443 -g -w 1\n" +
		"-A -u [2001:db8::1]:53 -s rr -p 10 -M 48\n" +
		"-a -u [2001:db8::1]:53 -r [2001:db8::53]:53 -i -w 5 --tun-type ipip\n" +
		"-A -f 7 -6 -s wlc\n" +
		"-a -f 7 -6 -r [2001:db8::7]:0 -g -w 1\n"
	svcs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, Format(svcs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestParseReportsEveryError: every bad line is reported with its number,
// the real servers of a failed service are not, and a name where -n prints
// an address says to use -n.
func TestParseReportsEveryError(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"rules", "-A -t 1.2.3.4:80 --bogus\n-a -t 1.2.3.4:80 -r 5.6.7.8\n-A -t 1.2.3.5:80\n-a -t 1.2.3.5:80 -r 5.6.7.8 -w x\n-A -f 0\n",
			[]string{`line 1: unknown option "--bogus"`, `line 4: illegal weight "x" specified`, `line 5: invalid fwmark value "0" specified`}},
		{"table", "Prot LocalAddress:Port Scheduler Flags\nTCP  1.2.3.4:80 rr (sh-port)\n  -> 5.6.7.8:80 Masq 1 0 0\nTCP  1.2.3.5:80 rr\n  -> 5.6.7.8:80 Bounce 1 0 0\n",
			[]string{`line 2: incompatible scheduler flag "sh-port" for scheduler "rr"`, `line 5: unknown forwarding method "Bounce": want Masq, Route or Tunnel`}},
		{"names", "TCP  www.example.org:http wlc\n  -> web1.example.org:http Masq 1 0 0\n",
			[]string{`line 1: "www.example.org:http" is not numeric: paste the output of ipvsadm -Ln (or -Sn), with -n`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.in)
			}
			if diff := cmp.Diff(strings.Join(tt.want, "\n"), err.Error()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseOpsAndTunnels reads one-packet scheduling and GUE/GRE tunnel
// options and writes them back the same.
func TestParseOpsAndTunnels(t *testing.T) {
	in := "-A -u 192.0.2.1:53 -s rr -o\n" +
		"-a -u 192.0.2.1:53 -r 10.0.0.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n" +
		"-a -u 192.0.2.1:53 -r 10.0.0.2:53 -i -w 1 --tun-type gre --tun-remcsum\n" +
		"-a -u 192.0.2.1:53 -r 10.0.0.3:53 -i -w 1 --tun-type ipip\n"
	svcs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !svcs[0].OnePacket {
		t.Error("-o not read")
	}
	d := svcs[0].Destinations
	if d[0].TunType != lvs.TunGUE || d[0].TunPort != 6080 || d[0].TunFlags != lvs.TunCsum {
		t.Errorf("GUE server = %+v", d[0])
	}
	if d[1].TunType != lvs.TunGRE || d[1].TunFlags != lvs.TunRemCsum {
		t.Errorf("GRE server = %+v", d[1])
	}
	if diff := cmp.Diff(in, Format(svcs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
