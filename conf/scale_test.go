package conf

import (
	"fmt"
	"strings"
	"testing"
)

// ScaleHCL is a configuration of n TCP-checked NAT services of 4 real
// servers each, the table of the scale benchmarks.
func scaleHCL(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "virtual_service \"s%d\" {\n  protocol  = \"tcp\"\n  address   = \"10.%d.%d.%d:80\"\n  scheduler = \"wrr\"\n  forward   = \"nat\"\n  check \"tcp\" {\n    interval = \"1s\"\n    timeout  = \"1s\"\n  }\n", i, 200+i>>16, i>>8&255, i&255)
		for j := range 4 {
			fmt.Fprintf(&b, "  real_server \"10.%d.%d.%d:8080\" {\n    inhibit_on_failure = true\n  }\n", i>>8&255, i&255, 10+j)
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// BenchmarkLoad10k loads (parse, decode, validate, compile) 10,000
// services of 4 real servers: go test -bench Load10k -cpuprofile for where
// the time goes.
func BenchmarkLoad10k(b *testing.B) {
	src := scaleHCL(10000)
	b.ReportAllocs()
	for b.Loop() {
		cfg, _, diags := LoadBytes("scale.hcl", src)
		if cfg == nil {
			b.Fatal(diags)
		}
	}
}
