package director

import "encoding/json"

// MarshalJSON writes the status as documented: every list present ([] when
// empty, never null), no zero timestamps (a time not yet known is left
// out), field names as tagged.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status // without this method
	return json.Marshal(Vocabulary(plain(s)))
}
