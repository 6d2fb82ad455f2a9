package main

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/havsd/havsd/conf"
)

// missingInterfaces returns a warning for each interface the configuration
// names (an instance's interface or track_interface) that exists returns
// false for, in the order the configuration names them, once each.
func missingInterfaces(cfg *conf.Config, exists func(name string) bool) []string {
	users := map[string][]string{} // interface → instances naming it
	var order []string
	add := func(iface, inst string) {
		if iface == "" {
			return
		}
		if _, seen := users[iface]; !seen {
			order = append(order, iface)
		}
		users[iface] = append(users[iface], inst)
	}
	for _, in := range cfg.Instances {
		add(in.Interface, in.Name)
		for _, t := range in.Track {
			add(t.Name, in.Name)
		}
	}
	var warns []string
	for _, iface := range order {
		if exists(iface) {
			continue
		}
		insts := users[iface]
		sort.Strings(insts)
		warns = append(warns, fmt.Sprintf("this host has no interface %q (named by vrrp_instance %s): it counts as down until it exists, so an instance on it stays in FAULT", iface, strings.Join(insts, ", ")))
	}
	return warns
}

// interfaceExists reports whether this host has an interface of that name.
func interfaceExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}
