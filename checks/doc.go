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
//     down; between them the check is retried after DelayBeforeRetry
//     instead of Interval. keepalived's "retry N" means N retries after the
//     first failure, that is Retry = N+1 here (the configuration maps it).
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
// One run loop keeps a heap of due checks and starts each on a goroutine
// that ends with it, so a hung target never delays another and an idle
// target holds no goroutine; Options.MaxInFlight bounds them (1024 by
// default), so that a director short of CPU stretches its intervals rather
// than timing out every check at once. The
// decisions (hysteresis, reload rules, the heap) live in a
// pure engine tested on fake time.
package checks
