package director

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// Vocabulary returns v in the words of `havsd status --json`, for the dump
// of internal state: field names in snake case (or as their json tag says),
// durations as "1.5s", enumerations and addresses by their String or text
// form, and lists present ([] rather than null). Zero-valued fields of
// structs without json tags are left out, so the dump shows what is set.
func Vocabulary(v any) any { return vocab(reflect.ValueOf(v)) }

var (
	durationType  = reflect.TypeFor[time.Duration]()
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
	stringerType  = reflect.TypeFor[fmt.Stringer]()
)

func vocab(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch {
	case t == durationType:
		return time.Duration(v.Int()).String()
	case t.Implements(marshalerType) && t.Kind() != reflect.Struct:
		return v.Interface()
	case t.Implements(textType):
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return nil
		}
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err.Error()
		}
		return string(b)
	case t.Implements(stringerType) && isScalar(t.Kind()):
		return v.Interface().(fmt.Stringer).String()
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return vocab(v.Elem())
	case reflect.Struct:
		return vocabStruct(v)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return string(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = vocab(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			var k any
			if s, ok := it.Key().Interface().(fmt.Stringer); ok {
				k = s.String() // a struct key such as lvs.ServiceKey
			} else {
				k = vocab(it.Key())
			}
			out[fmt.Sprint(k)] = vocab(it.Value())
		}
		return out
	}
	return v.Interface()
}

func isScalar(k reflect.Kind) bool {
	return k >= reflect.Bool && k <= reflect.Float64 || k == reflect.String
}

func vocabStruct(v reflect.Value) any {
	t := v.Type()
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, tagged := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(name, ",")
		switch {
		case name == "-":
			continue
		case name == "":
			name = snakeCase(f.Name)
		}
		fv := v.Field(i)
		if fv.IsZero() && (!tagged || strings.Contains(opts, "omit") || fv.Type() == timeType) && fv.Kind() != reflect.Slice {
			continue // unset; a zero time is no time, never 0001-01-01
		}
		if name == "auth_pass" && !fv.IsZero() {
			out[name] = "(set, not shown)" // dumps go to logs
			continue
		}
		out[name] = vocab(fv)
	}
	return out
}

// snakeCase turns a Go name into the status vocabulary's: AdvertInterval →
// advert_interval, VIPs → vips, IPv6 → ipv6.
func snakeCase(s string) string {
	s = words.Replace(s)
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
			i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// words are the names snakeCase takes as one word.
var words = strings.NewReplacer("IPv6", "Ipv6", "IPv4", "Ipv4", "VIPs", "Vips", "FWMark", "Fwmark", "IPVS", "Ipvs")
