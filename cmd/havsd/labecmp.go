package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
	"github.com/havsd/havsd/cmd/havsd/internal/lab"
	"github.com/havsd/havsd/netlab"
)

// Events of the ECMP drill, each on one director in turn.
const (
	ecmpKill   = "kill"   // SIGKILL the director's havsd; restart it
	ecmpCrash  = "crash"  // its link down and its havsd SIGKILLed; link up, restart
	ecmpStop   = "stop"   // SIGTERM; restart it
	ecmpDrain  = "drain"  // havsd drain; havsd undrain
	ecmpQuorum = "quorum" // its real servers become unreachable from it; reachable again
)

var ecmpEvents = []string{ecmpKill, ecmpCrash, ecmpDrain, ecmpStop, ecmpQuorum}

// ecmpRep is one repetition of an ECMP drill event.
type ecmpRep struct {
	Event    string `json:"event"`
	Director string `json:"director"`
	// WithdrawMS: from the event (for quorum: from the director's quorum
	// loss, read from its log) to its next hop leaving the router's FIB;
	// from then on the router sends it no traffic.
	WithdrawMS float64 `json:"withdraw_ms"`
	// ReturnMS: from the restore to its next hop being back.
	ReturnMS     float64 `json:"return_ms"`
	FlowsVictim  int     `json:"flows_victim"`
	BrokenVictim int     `json:"broken_victim"`
	FlowsOthers  int     `json:"flows_others"`
	BrokenOthers int     `json:"broken_others"`
	// NewToVictim counts new connections answered by the victim after
	// its withdrawal (must be 0).
	NewToVictim int `json:"new_to_victim"`
	// The client's view, from a new connection every -interval from its
	// addresses in turn: the longest time between two that connected, and
	// how many sent from the event on failed.
	GapMS float64 `json:"gap_ms"`
	Lost  int     `json:"lost"`
	Sent  int     `json:"sent"`
}

type ecmpJSON struct {
	Mode      string         `json:"mode"`
	Directors int            `json:"directors"`
	HoldS     float64        `json:"hold_s"`
	Share     map[string]int `json:"share"`
	Reps      []ecmpRep      `json:"repetitions"`
}

func (f *labFlags) ecmpOptions() (lab.ECMPOptions, []string, error) {
	var opt lab.ECMPOptions
	opt.ECMPParams = lab.DefaultECMPParams()
	opt.Directors, opt.Sources, opt.HoldTime = f.directors, f.sources, f.hold
	if f.reals > 0 {
		opt.Reals = f.reals
	}
	opt.Prefix, opt.StateDir = f.prefix, f.stateDir
	if opt.Prefix == lab.DefaultPrefix {
		opt.Prefix = lab.DefaultECMPPrefix
	}
	if err := opt.Validate(); err != nil {
		return opt, nil, err
	}
	if f.n < 1 || f.streams < 0 || f.share < 0 {
		return opt, nil, errors.New("-n must be positive, -streams and -share not negative")
	}
	events := []string{ecmpKill, ecmpDrain, ecmpStop}
	if f.events != "" {
		events = strings.Split(f.events, ",")
	}
	for _, e := range events {
		if !slices.Contains(ecmpEvents, e) {
			return opt, nil, fmt.Errorf("event %q is not an ECMP drill event (%s)", e, strings.Join(ecmpEvents, ", "))
		}
	}
	var err error
	if opt.Self, err = os.Executable(); err != nil {
		return opt, nil, fmt.Errorf("finding the havsd binary: %w", err)
	}
	return opt, events, nil
}

// labECMP is `havsd lab --mode ecmp`.
func (c *cli) labECMP(ctx context.Context, f labFlags) int {
	if f.vm {
		fmt.Fprintln(c.stderr, "havsd lab --mode ecmp --vm: not available: the test VM's image has no BIRD; the ECMP lab runs on the host kernel, the directors answering with the lab's responder")
		return exitUsage
	}
	opt, events, err := f.ecmpOptions()
	if err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitUsage
	}
	if err := labPrereqs(lab.KindHavsd); err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitFailure
	}
	for _, b := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(b); err != nil {
			fmt.Fprintln(c.stderr, "havsd lab: --mode ecmp needs BIRD 2 (apt-get install bird2; the lab runs it only inside the router's namespace)")
			return exitFailure
		}
	}
	if err := c.runECMPLab(ctx, f, opt, events); err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitFailure
	}
	return exitOK
}

func (c *cli) runECMPLab(ctx context.Context, f labFlags, opt lab.ECMPOptions, events []string) (err error) {
	out := c.stdout
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "havsd-lab-"); err != nil {
			return err
		}
	}
	opt.Dir, opt.Log = f.dir, out
	fmt.Fprintf(out, "building an ECMP lab: router %s (BIRD 2, AS %d, merge paths, L4 multipath hash), directors d1..d%d (havsd, AS %d, hold time %s), %d real servers, a client with %d source addresses; namespaces %s*\n",
		netlab.ECMPRouterIP, netlab.ECMPRouterASN, opt.Directors, netlab.ECMPDirectorASN, opt.HoldTime, opt.Reals, opt.Sources+1, opt.Prefix)
	if !ipvsAvailable(ctx) {
		fmt.Fprintln(out, "note: this kernel has no IPVS (ip_vs): each director answers for the VIP with the lab's responder, so a connection the router re-hashes to another director is reset there (with IPVS mh and connection sync it would keep its real server)")
	}
	l, err := lab.UpECMP(ctx, opt)
	if errors.Is(err, netlab.ErrExists) {
		return fmt.Errorf("%w: a lab is already up (or a crashed one left its namespaces): remove it with havsd lab down -prefix %s", err, opt.Prefix)
	}
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if keep {
			return
		}
		fmt.Fprintln(out, "tearing the lab down")
		if cerr := l.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "configs and logs in %s\n", l.Dir())
	if err := l.Ready(ctx, 30*time.Second+3*opt.HoldTime); err != nil {
		return err
	}
	route, _ := l.Topo.Exec(ctx, netlab.ECMPRouter, "ip", "route", "show", lab.VIPPrefix().String())
	fmt.Fprintf(out, "the router's route to the VIP:\n%s\n", strings.TrimRight(string(route), "\n"))
	v, err := drill.EnterNS(l.ClientNS())
	if err != nil {
		return err
	}
	defer v.Close()
	dst := netip.AddrPortFrom(netlab.ECMPVIP, 80)
	res := ecmpJSON{Mode: "ecmp", Directors: opt.Directors, HoldS: opt.HoldTime.Seconds()}
	if f.share > 0 {
		res.Share = lab.Share(ctx, v, l.Sources(), dst, f.share)
		fmt.Fprintf(out, "flow share of %d new connections from %d source addresses: %s\n", f.share, len(l.Sources()), lab.FormatShare(res.Share))
	}
	d := &ecmpDrill{l: l, v: v, dst: dst, streams: f.streams, interval: f.interval, timeout: f.timeout, out: out}
	for _, ev := range events {
		fmt.Fprintf(out, "\ndrill: %s, %d times, a director in turn, %d long-lived connections\n", ev, f.n, f.streams)
		for k := 0; k < f.n; k++ {
			victim := (len(res.Reps)) % opt.Directors
			r, err := d.run(ctx, ev, victim)
			if err != nil {
				return fmt.Errorf("%s of %s: %w", ev, netlab.ECMPDirectorName(victim), err)
			}
			fmt.Fprintf(out, "  %s\n", r.line())
			res.Reps = append(res.Reps, r)
		}
		ecmpSummary(out, ev, res.Reps)
	}
	if f.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(f.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if f.keep {
		keep = true
		fmt.Fprintf(out, "\nthe lab stays up (--keep). Try:\n  ip -n %s route show %s\n  birdc -s %s show protocols\n  havsd status -s %s\n  havsd drain -s %s\nand remove it with: havsd lab down -prefix %s\n",
			l.Topo.NS(netlab.ECMPRouter), netlab.ECMPVIP, l.Bird.Socket, l.Socket(0), l.Socket(0), opt.Prefix)
	}
	return nil
}

func (r ecmpRep) line() string {
	return fmt.Sprintf("%s %s: out of the router's FIB after %.0f ms, back %.0f ms after the restore; client gap %.0f ms, lost %d/%d; long-lived connections broken: %d/%d through %s, %d/%d through the others; new connections to %s while out: %d",
		r.Event, r.Director, r.WithdrawMS, r.ReturnMS, r.GapMS, r.Lost, r.Sent, r.BrokenVictim, r.FlowsVictim, r.Director, r.BrokenOthers, r.FlowsOthers, r.Director, r.NewToVictim)
}

// ecmpSummary prints the median withdraw time and the flows broken of one
// event over its repetitions.
func ecmpSummary(w interface{ Write([]byte) (int, error) }, ev string, reps []ecmpRep) {
	var ms, gaps []time.Duration
	var fv, bv, fo, bo, lost, sent int
	for _, r := range reps {
		if r.Event != ev {
			continue
		}
		ms = append(ms, time.Duration(r.WithdrawMS*float64(time.Millisecond)))
		gaps = append(gaps, time.Duration(r.GapMS*float64(time.Millisecond)))
		lost, sent = lost+r.Lost, sent+r.Sent
		fv, bv, fo, bo = fv+r.FlowsVictim, bv+r.BrokenVictim, fo+r.FlowsOthers, bo+r.BrokenOthers
	}
	fmt.Fprintf(w, "%s: out of the FIB %s; client gap %s, lost %d/%d; broken %d/%d through the director, %d/%d through the others\n",
		ev, drill.Summarize(ms), drill.Summarize(gaps), lost, sent, bv, fv, bo, fo)
}

// ecmpDrill runs repetitions against an ECMP lab.
type ecmpDrill struct {
	l       *lab.ECMPLab
	v       *drill.Vantage
	dst     netip.AddrPort
	streams int
	// interval and timeout of the client's new-connection probes
	interval, timeout time.Duration
	out               interface{ Write([]byte) (int, error) }
}

func (d *ecmpDrill) run(ctx context.Context, ev string, victim int) (ecmpRep, error) {
	l := d.l
	name := netlab.ECMPDirectorName(victim)
	ip := netlab.ECMPDirectorIP(victim)
	r := ecmpRep{Event: ev, Director: name}
	hold := l.HoldTime()
	if err := l.Ready(ctx, 30*time.Second+3*hold); err != nil {
		return r, err
	}
	var flows *lab.Flows
	if d.streams > 0 {
		var err error
		if flows, err = lab.OpenFlows(ctx, d.v, l.Sources(), d.dst, d.streams, 50*time.Millisecond); err != nil {
			return r, err
		}
		defer flows.Stop()
	}
	probes := lab.StartProbes(ctx, d.v, l.Sources(), d.dst, d.interval, d.timeout)
	stopProbes := sync.OnceValue(probes.Stop)
	defer stopProbes()
	select { // probing before the event
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(300 * time.Millisecond):
	}
	t0 := time.Now()
	var err error
	switch ev {
	case ecmpKill:
		err = l.Kill(victim)
	case ecmpCrash:
		err = l.Crash(ctx, victim)
	case ecmpStop:
		err = l.Stop(victim)
	case ecmpDrain:
		_, err = l.Havsd(ctx, victim, "drain")
	case ecmpQuorum:
		err = l.FailReals(ctx, victim)
	}
	if err != nil {
		return r, err
	}
	out, ok := l.FIB.Wait(3*hold+10*time.Second, func(nh []netip.Addr) bool { return !netlab.Has(nh, ip) })
	if !ok {
		return r, fmt.Errorf("%s still a next hop of the router's route %s after the %s", ip, l.FIB.NextHops(), ev)
	}
	from := t0
	if ev == ecmpQuorum {
		if q, ok := l.QuorumLost(victim, t0); ok {
			from = q
		} else {
			return r, fmt.Errorf("no quorum loss in %s's log", name)
		}
	}
	r.WithdrawMS = msf(out.Sub(from))
	// Give every connection a few exchanges on its new path, then count.
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(time.Second):
	}
	o := drill.Analyze(stopProbes(), t0, time.Now(), d.interval)
	r.GapMS, r.Lost, r.Sent = msf(o.Gap), o.Lost, o.Sent
	if flows != nil {
		for via, c := range lab.CountFlows(flows.Stop()) {
			if via == name {
				r.FlowsVictim, r.BrokenVictim = c.Flows, c.Broken
			} else {
				r.FlowsOthers, r.BrokenOthers = r.FlowsOthers+c.Flows, r.BrokenOthers+c.Broken
			}
		}
	}
	r.NewToVictim = lab.Share(ctx, d.v, l.Sources(), d.dst, 3*len(l.Sources()))[name]
	t1 := time.Now()
	switch ev {
	case ecmpKill, ecmpStop:
		err = l.Restart(ctx, victim)
	case ecmpCrash:
		err = l.Reboot(ctx, victim)
	case ecmpDrain:
		_, err = l.Havsd(ctx, victim, "undrain")
	case ecmpQuorum:
		err = l.HealReals(ctx, victim)
	}
	if err != nil {
		return r, err
	}
	back, ok := l.FIB.Wait(30*time.Second+3*hold, func(nh []netip.Addr) bool { return netlab.Has(nh, ip) })
	if !ok {
		return r, fmt.Errorf("%s did not return to the router's route after the restore", name)
	}
	r.ReturnMS = msf(back.Sub(t1))
	return r, nil
}
