package community

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"65000:100", 65000<<16 | 100, true},
		{"65535:0", GracefulShutdown, true},
		{"0:0", 0, true},
		{"65536:1", 0, false},
		{"1:65536", 0, false},
		{"65000", 0, false},
		{"a:b", 0, false},
		{"-1:2", 0, false},
		{"1:2:3", 0, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && Format(got) != tc.in {
			t.Errorf("Format(%d) = %q, want %q", got, Format(got), tc.in)
		}
	}
}
