// Package checks probes real servers (TCP, HTTP/HTTPS, script, UDP, DNS,
// ping) and schedules those probes with keepalived's semantics, emitting only
// transitions between up and down.
//
// # Checkers
//
// New builds a Checker from a Spec; Check(ctx) returns nil when the server
// passes, else an error worded for the log ("connect 10.0.0.1:80: connection
// refused", "GET http://10.0.0.1:80/: HTTP status 500 not in 200-299",
// "... body digest 1b26... != expected 6654...", "... timeout after 1s
// reading body"). Every checker applies Spec.Timeout to the whole probe and
// binds to Spec.Source when set.
//
// HTTP and HTTPS use a small HTTP/1.1 client of their own (a prebuilt
// request, the standard response parser, the context's deadline on the
// socket): no transport goroutines and no shared pool. By default every
// check opens a new connection, as keepalived does, because a kept-alive
// connection keeps passing after a server stopped accepting new ones;
// HTTPSpec.KeepAlive keeps one idle connection per checker for those who
// prefer the lower cost (see the benchmark figures in scale_test.go). The
// body digest is the hex MD5 of the body bytes as received (after chunked
// decoding), which is what keepalived's genhash prints; Digest and
// "havsd digest" compute it.
//
// # Scheduling
//
// The Scheduler follows keepalived.conf(5) for real-server checkers, with an
// HAProxy-like rise:
//
//   - Interval is delay_loop: checks run at a fixed rate from the first one.
//   - Timeout is connect_timeout, applied to the whole check.
//   - Retry is the number of consecutive failures that take an up server
//     down (Spec.failuresToDown is the one place that reads it); between
//     them the check is retried after DelayBeforeRetry instead of
//     Interval. keepalived's "retry N" means N retries after the first
//     failure, that is Retry = N+1 here (the configuration maps it).
//   - Rise is the number of consecutive successes that bring a down server
//     up (keepalived: 1).
//   - Warmup delays the first check of a new or changed target by a random
//     duration up to Warmup, so thousands of checks do not fire together.
//     keepalived defaults warmup to delay_loop; here zero means none, so
//     the configuration should supply that default.
//   - Alpha starts a new target down; otherwise it starts up. InitialUp
//     says which, and no transition is emitted for that initial state.
//
// A failure is detected within Interval + Retry*Timeout +
// (Retry-1)*DelayBeforeRetry of its start, which is within the usual bound
// Interval*(Retry+1) + Timeout when Timeout + DelayBeforeRetry <= Interval.
//
// A target with several checks is up only while all of them are. The
// scheduler emits transitions only, through a coalescing mailbox: a slow
// consumer never blocks the checks, and it receives the latest state per
// target (a flap that returns to the state the consumer already has is
// dropped). A panicking checker is recovered, logged and counted as a
// failure.
//
// # Identical checks run once
//
// Targets whose specs are equal (the same real server checked the same way
// by several services, as a virtual_server_group or one backend behind
// many ports gives) share one probe: it runs once per interval and its
// result, and the hysteresis built from it, count for all of them. A target
// that joins a probe already running takes its verdict at once (with a
// transition when that differs from its initial state); a probe lives while
// any target uses it, so removing one of the services keeps the others'
// state. Stats.Probes and CheckHealth.SharedBy show the sharing.
//
// Checks that differ only in their address (every real server of a
// service, usually) share their settings: a probe holds a pointer to them
// and its address, and the package's checkers share what they build from
// them (an HTTP check's regex, dialer and TLS configuration with its CA
// pool). A probe holds no context, buffer or goroutine between checks.
//
// # A busy director is not a dead server
//
// A check's timeout runs from its first system call (the connect), so time
// spent queued behind other checks or waiting for a goroutine does not
// count. The checker watches itself: while checks run, the run loop wakes
// at least every Heartbeat, and a wake-up (or a check's own deadline)
// arriving StallThreshold or more late is a stall: the process was
// descheduled, paused (SIGSTOP, a VM pause) or short of CPU. A check that
// timed out (ErrTimeout) while stalls covered a quarter of its timeout or
// more is discarded and run again at once, up to 3 times in a row; only
// answers from the server (a refusal, a reset, a bad status) and timeouts
// the checker was awake for count. Stalls are logged at Warn and counted
// (Stats.Stalls, Stats.StallRetries).
//
// Overload stretches the interval rather than the verdict: at most
// Options.MaxInFlight checks run at once (1024 by default), and after each
// stall the bound halves (not below 8), doubling back after as many clean
// results. Due checks beyond it wait, so each started check finishes in
// time, and the effective interval grows instead (Stats.StartLag,
// CheckHealth.EffectiveInterval). One run loop keeps a heap of due probes.
// Each check runs on a goroutine that ends with it, so a hung target never
// delays another and an idle target holds nothing. Options.EventLoop
// (off by default, see its figures) runs TCP connect checks and HTTP
// checks that need the status only on one epoll loop instead, as
// keepalived's do: no goroutine, timer or context per check, ready sockets
// read before expired deadlines are acted on. The decisions
// (hysteresis, sharing, reload rules, the heap, the in-flight bound) live
// in a pure engine tested on fake time.
package checks
