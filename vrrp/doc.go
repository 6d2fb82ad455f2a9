// Package vrrp implements the Virtual Router Redundancy Protocol (RFC 3768
// version 2, RFC 5798 version 3): the advert codec, the timers, the state
// machine and the sockets that let directors float virtual addresses between
// them.
//
// The daemon drives one Instance per configured virtual router:
//
//	inst, err := vrrp.NewInstance(cfg, vrrp.Options{Logger: log})
//	go inst.Run(ctx)            // cancel ctx: graceful stop
//	for e := range inst.Events() { ... }   // every transition, once
//	inst.Update(newCfg)         // reload without resetting state
//	inst.SetPriorityDelta(-50)  // health adjustments
//	inst.Handover(ctx)          // planned handover
//	inst.Status()               // snapshot for status and metrics
//
// Graceful stop and handover are make-before-break: a master advertises
// priority 0 (repeated every advert interval) and keeps its VIPs until it
// hears the new master's advert, at most Master_Down_Interval, then
// removes them. A new master adds its VIPs and sends its first gratuitous
// ARP / NA before its first advert, so clients already follow it when the
// old master lets go. After Handover the old master stays a backup that
// does not preempt (Status.Yielding) until the new master fails (its
// Master_Down_Interval expires) or Resume is called.
//
// Deviations from the RFC, all towards faster convergence: a backup with
// preemption preempts a lower-priority master at once instead of waiting
// for Master_Down_Interval; a master that hears a lower-priority master
// (split brain healing) advertises at once and re-announces its VIPs; a
// master that loses to a higher one sends a priority-0 advert to that
// winner only, so the winner re-announces the VIPs clients may have learnt
// from the loser.
//
// Sync groups (NewGroup) make instances follow each other into Fault and
// out of MASTER; tracked interfaces (netlink link subscription) put an
// instance in Fault (weight 0) or lower its priority. Notify commands run
// as argv (no shell) one at a time off the state machine's goroutine, with
// a timeout and HAVSD_* variables in their environment.
package vrrp
