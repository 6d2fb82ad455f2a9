package conf

import (
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/havsd/havsd/vrrp"
)

// InstanceFields names the settings that differ between two configurations
// of a VRRP instance, by their config names ("priority", "advert_interval",
// "virtual_ipaddress"), in declaration order: what a reload says it changed.
func InstanceFields(a, b vrrp.Config) []string {
	return fieldNames(reflect.ValueOf(a), reflect.ValueOf(b), instanceNames, nil)
}

// RealFields names the settings that differ between two configurations of
// a real server ("weight", "forward", "check", ...).
func RealFields(a, b RealServer) []string {
	return fieldNames(reflect.ValueOf(a), reflect.ValueOf(b), realNames, nil)
}

// instanceNames maps vrrp.Config's fields to the config's names; a field
// not listed is named in snake case.
var instanceNames = map[string]string{
	"VRID": "virtual_router_id", "IPv6": "family", "VIPs": "virtual_ipaddress",
	"Track": "track_interface", "GARP": "garp", "Notify": "notify",
}

// realNames maps RealServer's fields (and its Destination's) to the
// config's names; "-" marks what is not a setting.
var realNames = map[string]string{
	"Dest": "", "Addr": "-", "Port": "-", "ActiveConns": "-", "InactiveConns": "-", "Stats": "-",
	"FullNAT": "forward", "SNATSource": "snat_source", "InhibitOnFailure": "inhibit_on_failure", "Checks": "check",
}

// fieldNames compares two structs field by field; a field named "" is a
// struct whose own fields are compared.
func fieldNames(a, b reflect.Value, names map[string]string, out []string) []string {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := names[f.Name]
		switch {
		case !f.IsExported() || name == "-":
			continue
		case ok && name == "" && f.Type.Kind() == reflect.Struct:
			out = fieldNames(a.Field(i), b.Field(i), names, out)
			continue
		case !ok:
			name = snake(f.Name)
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// snake turns a Go field name into a config name: AdvertInterval →
// advert_interval, UnicastPeers → unicast_peers.
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
