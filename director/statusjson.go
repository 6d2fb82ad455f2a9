package director

import "encoding/json"

// MarshalJSON writes the status as documented: every list present ([] when
// empty, never null), no zero timestamps (a time not yet known is left
// out), last_reload null until the first reload (there is no outcome to
// show), field names as tagged.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status // without this method
	m, _ := Vocabulary(plain(s)).(map[string]any)
	if s.LastReload.Count == 0 {
		m["last_reload"] = nil
	}
	return json.Marshal(m)
}
