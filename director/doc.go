// Package director is havsd's one owner: a single goroutine holds the running
// configuration, the health of every real server and the state of every VRRP
// instance, computes the desired IPVS table as a pure function of them, and
// hands it to the reconciler. Everything else talks to it through channels.
package director
