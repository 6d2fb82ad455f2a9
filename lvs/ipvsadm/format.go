package ipvsadm

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/havsd/havsd/lvs"
)

// Options adjusts Format. The zero value prints exactly what ipvsadm -Sn
// prints.
type Options struct {
	// Thresholds appends -x/-y to real servers with connection thresholds,
	// which ipvsadm accepts on input but never saves.
	Thresholds bool
}

// Format prints svcs as `ipvsadm -S -n` prints the same table. It does not
// modify svcs.
func Format(svcs []lvs.Service) string { return FormatWith(svcs, Options{}) }

// FormatWith is Format with options.
func FormatWith(svcs []lvs.Service, opt Options) string {
	var b strings.Builder
	for _, s := range Normalize(svcs) {
		name := serviceName(s.Key)
		fmt.Fprintf(&b, "-A %s -s %s", name, s.Scheduler)
		if s.Timeout > 0 {
			fmt.Fprintf(&b, " -p %d", timeoutSeconds(s.Timeout))
			if s.NetmaskBits != 0 {
				fmt.Fprintf(&b, " -M %s", netmaskString(s.Key.Family, s.NetmaskBits))
			}
		}
		if s.PE != "" {
			fmt.Fprintf(&b, " --pe %s", s.PE)
		}
		if s.Flags != 0 {
			fmt.Fprintf(&b, " -b %s", SchedFlagsString(s.Scheduler, s.Flags))
		}
		if s.OnePacket {
			b.WriteString(" -o")
		}
		b.WriteByte('\n')
		for _, d := range s.Destinations {
			fmt.Fprintf(&b, "-a %s -r %s %s -w %d", name, addrPort(d.Addr, d.Port), forwardSwitch(d.Forward), d.Weight)
			if d.Forward == lvs.Tunnel {
				writeTun(&b, d)
			}
			if opt.Thresholds {
				if d.UpperThreshold != 0 {
					fmt.Fprintf(&b, " -x %d", d.UpperThreshold)
				}
				if d.LowerThreshold != 0 {
					fmt.Fprintf(&b, " -y %d", d.LowerThreshold)
				}
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// timeoutSeconds converts a persistence timeout to the kernel's whole
// seconds, rounding a positive sub-second timeout up to 1.
func timeoutSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if s == 0 && d > 0 {
		s = 1
	}
	return s
}

func serviceName(k lvs.ServiceKey) string {
	if k.FWMark != 0 {
		if k.Family == lvs.IPv6 {
			return fmt.Sprintf("-f %d -6", k.FWMark)
		}
		return fmt.Sprintf("-f %d", k.FWMark)
	}
	opt := "--xxx-service"
	switch k.Proto {
	case lvs.TCP:
		opt = "-t"
	case lvs.UDP:
		opt = "-u"
	case lvs.SCTP:
		opt = "--sctp-service"
	}
	return opt + " " + addrPort(k.Addr, k.Port)
}

// addrPort prints an address and port as ipvsadm does: "a.b.c.d:p" or
// "[v6]:p", the port always present.
func addrPort(a netip.Addr, port uint16) string {
	a = a.Unmap()
	if a.Is6() {
		return fmt.Sprintf("[%s]:%d", a, port)
	}
	return fmt.Sprintf("%s:%d", a, port)
}

func netmaskString(f lvs.Family, bits int) string {
	if f == lvs.IPv6 {
		return fmt.Sprint(bits)
	}
	var m [4]byte
	for i := 0; i < bits && i < 32; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}

func forwardSwitch(f lvs.Forward) string {
	switch f {
	case lvs.Masq:
		return "-m"
	case lvs.Tunnel:
		return "-i"
	}
	return "-g" // route, and what ipvsadm prints for local-node
}

// SchedFlagsString prints scheduler flags as ipvsadm does for the given
// scheduler: sh-fallback,sh-port for sh, mh-... for mh, flag-N otherwise.
func SchedFlagsString(sched string, f lvs.SchedFlags) string {
	var out []string
	switch sched {
	case "sh", "mh":
		if f&lvs.FlagFallback != 0 {
			out = append(out, sched+"-fallback")
		}
		if f&lvs.FlagPort != 0 {
			out = append(out, sched+"-port")
		}
	default:
		for i, fl := range []lvs.SchedFlags{lvs.FlagFallback, lvs.FlagPort, lvs.FlagSched3} {
			if f&fl != 0 {
				out = append(out, fmt.Sprintf("flag-%d", i+1))
			}
		}
	}
	return strings.Join(out, ",")
}

// Normalize returns a copy of svcs in the canonical form Format prints:
// services and real servers sorted as ipvsadm sorts them, counters and
// connection counts zeroed, IPv4-mapped addresses unmapped, the default
// persistence netmask (/32, /128) and a netmask without persistence written
// as zero. Use it before comparing two tables.
func Normalize(svcs []lvs.Service) []lvs.Service {
	out := make([]lvs.Service, 0, len(svcs))
	for _, s := range svcs {
		s.Stats = lvs.Stats{}
		s.Key.Addr = s.Key.Addr.Unmap()
		full := 32
		if s.Key.Family == lvs.IPv6 {
			full = 128
		}
		if s.Timeout <= 0 || s.NetmaskBits == full {
			s.NetmaskBits = 0
		}
		if s.Timeout > 0 {
			s.Timeout = time.Duration(timeoutSeconds(s.Timeout)) * time.Second
		} else {
			s.Timeout = 0
		}
		ds := make([]lvs.Destination, 0, len(s.Destinations))
		for _, d := range s.Destinations {
			d.Addr = d.Addr.Unmap()
			d.Stats = lvs.Stats{}
			d.ActiveConns, d.InactiveConns = 0, 0
			ds = append(ds, d)
		}
		slices.SortStableFunc(ds, func(a, b lvs.Destination) int { return a.Key().Compare(b.Key()) })
		if len(ds) == 0 {
			ds = nil
		}
		s.Destinations = ds
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b lvs.Service) int { return compareKey(a.Key, b.Key) })
	return out
}

// CompareKeys orders service keys as ipvsadm -Sn prints them.
func CompareKeys(a, b lvs.ServiceKey) int { return compareKey(a, b) }

// compareKey orders services as ipvsadm does: by firewall mark (plain
// services first), family, protocol number, address, port. ipvsadm's C
// comparison subtracts unsigned addresses into an int and so misorders
// addresses more than 2^31 apart; we use the true order.
func compareKey(a, b lvs.ServiceKey) int {
	return cmp.Or(
		cmp.Compare(a.FWMark, b.FWMark),
		cmp.Compare(familyNumber(a.Family), familyNumber(b.Family)),
		cmp.Compare(protoNumber(a.Proto), protoNumber(b.Proto)),
		a.Addr.Compare(b.Addr),
		cmp.Compare(a.Port, b.Port),
	)
}

func familyNumber(f lvs.Family) int {
	switch f {
	case lvs.IPv4:
		return 2 // AF_INET
	case lvs.IPv6:
		return 10 // AF_INET6
	}
	return 0
}

func protoNumber(p lvs.Protocol) int {
	switch p {
	case lvs.TCP:
		return 6
	case lvs.UDP:
		return 17
	case lvs.SCTP:
		return 132
	}
	return 0
}

// writeTun writes a tunnel real server's encapsulation options.
func writeTun(b *strings.Builder, d lvs.Destination) {
	fmt.Fprintf(b, " --tun-type %s", d.TunType)
	if d.TunType == lvs.TunGUE {
		fmt.Fprintf(b, " --tun-port %d", d.TunPort)
	}
	switch {
	case d.TunType == lvs.TunIPIP:
	case d.TunFlags&lvs.TunRemCsum != 0:
		b.WriteString(" --tun-remcsum")
	case d.TunFlags&lvs.TunCsum != 0:
		b.WriteString(" --tun-csum")
	default:
		b.WriteString(" --tun-nocsum")
	}
}
