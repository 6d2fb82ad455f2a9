// Package lvstest provides an in-memory, stateful IPVS table for tests of
// code that drives an lvs.Table, and a wrapper that counts the calls made to
// any Table.
package lvstest
