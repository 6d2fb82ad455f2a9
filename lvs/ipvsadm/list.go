package ipvsadm

import (
	"fmt"
	"strings"
)

// listed turns a line of the table `ipvsadm -L -n` prints into the rule it
// shows; other lines come back as they are. Header lines give nil args.
//
//	IP Virtual Server version 1.2.1 (size=4096)
//	Prot LocalAddress:Port Scheduler Flags
//	  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//	TCP  192.0.2.1:80 wrr (flag-1) persistent 300 mask 255.255.255.0 pe sip ops
//	  -> 10.0.0.1:80                  Masq    2      0          0
//	FWM  7 IPv6 rr
func (p *parser) listed(f []string) ([]string, error) {
	switch f[0] {
	case "IP", "Prot":
		p.afterTable = true
		return nil, nil
	case "->":
		if len(f) > 1 && f[1] == "RemoteAddress:Port" {
			return nil, nil
		}
		if p.current == nil && p.afterTable {
			return nil, nil // of a service whose line failed
		}
		return p.listedDest(f)
	}
	if listedService[f[0]] {
		return p.listedService(f)
	}
	if p.afterTable {
		return nil, fmt.Errorf("%q is neither a line of an ipvsadm -Ln table nor an ipvsadm -Sn rule", strings.Join(f, " "))
	}
	return f, nil
}

// listedService are the protocol words that start a service line.
var listedService = map[string]bool{"TCP": true, "UDP": true, "SCTP": true, "FWM": true}

func (p *parser) listedService(f []string) ([]string, error) {
	p.current, p.afterTable = nil, true
	if len(f) < 3 {
		return nil, fmt.Errorf("%s line of an ipvsadm -Ln table without an address and scheduler", f[0])
	}
	opt := map[string]string{"TCP": "-t", "UDP": "-u", "SCTP": "--sctp-service", "FWM": "-f"}[f[0]]
	svc := []string{opt, f[1]}
	rest := f[2:]
	if f[0] == "FWM" && rest[0] == "IPv6" {
		svc, rest = append(svc, "-6"), rest[1:]
	} else if f[0] != "FWM" && strings.Contains(f[1], ":") && !isNumericAddrPort(f[1]) {
		return nil, fmt.Errorf("%q is not numeric: paste the output of ipvsadm -Ln (or -Sn), with -n", f[1])
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("%s %s: no scheduler", f[0], f[1])
	}
	args := append([]string{"-A"}, svc...)
	args = append(args, "-s", rest[0])
	for i := 1; i < len(rest); i++ {
		w := rest[i]
		switch {
		case strings.HasPrefix(w, "(") && strings.HasSuffix(w, ")"):
			args = append(args, "-b", strings.Trim(w, "()"))
		case w == "persistent" && i+1 < len(rest):
			args, i = append(args, "-p", rest[i+1]), i+1
		case w == "mask" && i+1 < len(rest):
			args, i = append(args, "-M", rest[i+1]), i+1
		case w == "pe" && i+1 < len(rest):
			args, i = append(args, "--pe", rest[i+1]), i+1
		case w == "ops":
			args = append(args, "-o")
		default:
			return nil, fmt.Errorf("unknown word %q in the service line of an ipvsadm -Ln table", w)
		}
	}
	p.current = svc
	return args, nil
}

func (p *parser) listedDest(f []string) ([]string, error) {
	if p.current == nil {
		return nil, fmt.Errorf("real server line %q before any service line", strings.Join(f, " "))
	}
	if len(f) < 4 {
		return nil, fmt.Errorf("real server line of an ipvsadm -Ln table without forward and weight")
	}
	fwd, ok := map[string]string{"Masq": "-m", "Local": "-m", "Route": "-g", "Tunnel": "-i"}[f[2]]
	if !ok {
		return nil, fmt.Errorf("unknown forwarding method %q: want Masq, Route or Tunnel", f[2])
	}
	if !isNumericAddrPort(f[1]) {
		return nil, fmt.Errorf("%q is not numeric: paste the output of ipvsadm -Ln (or -Sn), with -n", f[1])
	}
	args := append([]string{"-a"}, p.current...)
	return append(args, "-r", f[1], fwd, "-w", f[3]), nil
}

// isNumericAddrPort reports whether s is an address with a port, as -n
// prints it (not a name such as www.example.org:http).
func isNumericAddrPort(s string) bool {
	_, _, hasPort, err := parseAddrPort(s)
	return err == nil && hasPort
}
