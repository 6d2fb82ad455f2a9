package conf

// serviceInstances warns where a service's instance cannot matter. A
// service's instance decides where it is programmed only with ipvs_mode =
// "master"; otherwise it is used to check that the service's addresses
// (its address, or its classify addresses) are that instance's VIPs. A
// firewall-mark service without classify blocks under ipvs_mode =
// "always" has neither use.
func (v *validator) serviceInstances(f *rawFile) {
	for _, s := range f.services {
		if s.sorryInhibit && s.sorry == nil {
			v.errorf(s.b.at("sorry_server_inhibit"), "No sorry server", "sorry_server_inhibit keeps the sorry_server in the table at weight 0 while quorum holds; this service has no sorry_server.")
		}
	}
	if f.global.ipvsMode == "master" {
		return
	}
	for _, s := range f.services {
		if s.b.has("instance") && s.fwmark != 0 && len(s.classify) == 0 {
			v.warnf(s.b.at("instance"), "instance has no effect here",
				"With ipvs_mode = %q every director programs this service whatever the state of vrrp_instance %q, and a firewall-mark service without classify blocks has no address to check against its VIPs. Set global ipvs_mode = \"master\" to program it only on that instance's master, or remove instance.",
				f.global.ipvsMode, s.instance)
		}
	}
}
