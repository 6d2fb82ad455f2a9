package keepalived

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
	"github.com/havsd/havsd/track"
)

// TestReverseInitFailParamMatch: "weight N reverse" on trackers and their
// uses (a weight on the use brings its own reverse, as in keepalived),
// init_fail and param_match convert; weight 0 reverse on an interface
// does not.
func TestReverseInitFailParamMatch(t *testing.T) {
	cfg, diags := convert(t, `vrrp_script chk {
    script /bin/true
    weight 10 reverse
    init_fail
    rise 2
}
track_file maint {
    file /run/maint
    weight 2 reverse
}
vrrp_track_process hap {
    process /usr/sbin/haproxy -f /etc/haproxy
    param_match initial
}
vrrp_track_process any {
    process haproxy
    param_match partial
}
vrrp_track_process bare {
    process haproxy
    param_match
}
`+vrrpHead+` track_script {
        chk
    }
    track_file {
        maint weight 3
    }
    track_process {
        hap weight -5 reverse
        any weight 1
        bare weight 1
    }
    track_interface {
        eth1 weight 10 reverse
        eth2 weight -20 noreverse
        eth3 weight 0 reverse
    }
}
`)
	key := func(k track.Kind, n string) track.Key { return track.Key{Kind: k, Name: n} }
	want := []track.Ref{
		{Key: key(track.KindScript, "chk"), Weight: 10, Reverse: true, InitFail: true},
		{Key: key(track.KindFile, "maint"), Weight: 3}, // the use's weight, without reverse
		{Key: key(track.KindProcess, "hap"), Weight: -5, Reverse: true},
		{Key: key(track.KindProcess, "any"), Weight: 1},
		{Key: key(track.KindProcess, "bare"), Weight: 1},
	}
	if d := cmp.Diff(want, cfg.Trackers.Refs["VI_1"]); d != "" {
		t.Errorf("refs (-want +got):\n%s", d)
	}
	if s := cfg.Trackers.Spec.Scripts[0]; !s.InitFail || s.Rise != 2 {
		t.Errorf("script %+v: init_fail lost", s)
	}
	wantProcs := []track.Process{
		{Name: "hap", Match: "/usr/sbin/haproxy -f /etc/haproxy", Args: true, ParamMatch: track.ParamInitial, Quorum: 1},
		{Name: "any", Match: "haproxy", Args: true, ParamMatch: track.ParamPartial, Quorum: 1},
		{Name: "bare", Match: "haproxy", Args: true, Quorum: 1},
	}
	if d := cmp.Diff(wantProcs, cfg.Trackers.Spec.Processes); d != "" {
		t.Errorf("processes (-want +got):\n%s", d)
	}
	wantIf := []conf.InterfaceWeight{{Name: "eth1", Weight: 10, Reverse: true}, {Name: "eth2", Weight: -20}}
	if d := cmp.Diff(wantIf, cfg.Trackers.Interfaces["VI_1"]); d != "" {
		t.Errorf("interfaces (-want +got):\n%s", d)
	}
	if !hasDiag(diags, NotConverted, "weight 0 reverse puts the instance in FAULT while the interface is up") {
		t.Errorf("weight 0 reverse on an interface not reported: %v", diags)
	}
	for _, kw := range []string{"init_fail", "param_match", "reverse"} {
		for _, d := range diags {
			if d.Severity == NotConverted && d.Keyword == kw {
				t.Errorf("%s reported as not converted: %v", kw, d)
			}
		}
	}
}

// TestGlobalSSL: the SSL block's certificate and key go to every SSL_GET
// check; its CA is noted (keepalived does not verify with it) and its
// password is not converted.
func TestGlobalSSL(t *testing.T) {
	cert, key := clientCert(t)
	src := `SSL {
    ca /etc/ssl/ca.pem
    certificate ` + cert + `
    key ` + key + `
}
virtual_server 10.0.0.1 443 {
    protocol TCP
    real_server 10.0.1.1 443 {
        SSL_GET {
            url {
                path /
            }
        }
        HTTP_GET {
            url {
                path /
            }
        }
    }
}
`
	cfg, diags := convert(t, src)
	cs := cfg.Services[0].Reals[0].Checks
	if cs[0].Kind != checks.KindHTTPS || cs[0].HTTP.TLSCert != cert || cs[0].HTTP.TLSKey != key {
		t.Errorf("SSL_GET check %+v: no client certificate", cs[0].HTTP)
	}
	if cs[1].HTTP.TLSCert != "" {
		t.Errorf("HTTP_GET check got a certificate: %+v", cs[1].HTTP)
	}
	if !hasDiag(diags, Note, "k.conf:2: note: ca: keepalived loads the CA but does not verify") || diags.LeftOut() {
		t.Errorf("diagnostics: %v", diags)
	}
	_, diags = convert(t, "SSL {\n password secret\n certificate "+cert+"\n key "+key+"\n}\n")
	if !hasDiag(diags, NotConverted, "k.conf:2: not converted: password: decrypts the key with a password") {
		t.Errorf("password not reported: %v", diags)
	}
	_, diags = convert(t, "SSL {\n certificate "+cert+"\n}\n")
	if !hasDiag(diags, NotConverted, "k.conf:2: not converted: certificate: a client certificate without its key") {
		t.Errorf("certificate without key not reported: %v", diags)
	}
}

// clientCert writes a self-signed certificate and its key as PEM files.
func clientCert(t *testing.T) (cert, key string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "havsd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestMiscDynamicAndFileCheck: misc_dynamic and FILE_CHECK convert; a
// FILE_CHECK without a weight takes its track_file's weight and reverse.
func TestMiscDynamicAndFileCheck(t *testing.T) {
	cfg, diags := convert(t, `track_file maint {
    file /run/maint
    weight 5 reverse
}
track_file stop {
    file /run/stop
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.1.1 80 {
        MISC_CHECK {
            misc_path "/bin/true 10.0.1.1"
            misc_dynamic
        }
        FILE_CHECK {
            track_file maint
        }
        FILE_CHECK {
            track_file stop
            weight 0
        }
    }
    real_server 10.0.1.2 80 {
        FILE_CHECK {
            track_file maint
            weight -3
        }
        FILE_CHECK {
            track_file nope
        }
    }
}
`)
	rs := cfg.Services[0].Reals
	if s := rs[0].Checks[0].Script; s == nil || !s.Dynamic {
		t.Errorf("misc_dynamic lost: %+v", rs[0].Checks)
	}
	key := func(n string) track.Key { return track.Key{Kind: track.KindFile, Name: n} }
	want := [][]track.Ref{
		{{Key: key("maint"), Weight: 5, Reverse: true}, {Key: key("stop"), Weight: 0}},
		{{Key: key("maint"), Weight: -3}},
	}
	if d := cmp.Diff(want, [][]track.Ref{rs[0].TrackFiles, rs[1].TrackFiles}); d != "" {
		t.Errorf("FILE_CHECKs (-want +got):\n%s", d)
	}
	if !hasDiag(diags, NotConverted, "k.conf:28: not converted: FILE_CHECK: tracks track_file nope, which is not defined") {
		t.Errorf("undefined track_file not reported: %v", diags)
	}
	for _, d := range diags {
		if d.Severity == NotConverted && (d.Keyword == "misc_dynamic" || d.Keyword == "FILE_CHECK" && d.Pos.Line != 28) {
			t.Errorf("reported as not converted: %v", d)
		}
	}
}

// TestServerGroup: a virtual_server_group becomes a virtual_service_group
// and one virtual_service naming it; havsd loads it to the IPVS services
// keepalived programs (one per address and fwmark, real-server ports as
// keepalived gives them), named SERVICE/MEMBER.
func TestServerGroup(t *testing.T) {
	src := `virtual_server_group G {
    10.77.0.5 80
    10.77.0.6-7 8080
    fwmark 78
}
virtual_server group G {
    protocol TCP
    lvs_sched wrr
    persistence_timeout 30
    real_server 10.77.1.1 80 {
        weight 2
        TCP_CHECK {
        }
    }
    real_server 10.77.1.2 8080 {
        weight 3
    }
}
`
	p, pd := Parse("k.conf", memFS(map[string]string{"k.conf": src}))
	res, _ := Convert(p)
	hcl := string(res.HCL())
	for _, w := range []string{`virtual_service_group "G" {`, `address = ["10.77.0.5:80", "10.77.0.6:8080", "10.77.0.7:8080"]`, `fwmark  = [78]`,
		`virtual_service "G" {`, `group       = "G"`} {
		if !strings.Contains(hcl, w) {
			t.Errorf("HCL lacks %q:\n%s\n%v", w, hcl, pd)
		}
	}
	cfg, _ := convert(t, src)
	var names []string
	var svcs []lvs.Service
	for _, s := range cfg.Services {
		names = append(names, s.Name)
		svc := s.Service
		for _, r := range s.Reals {
			svc.Destinations = append(svc.Destinations, r.Dest)
		}
		svcs = append(svcs, svc)
	}
	if d := cmp.Diff([]string{"G/10.77.0.5:80", "G/10.77.0.6:8080", "G/10.77.0.7:8080", "G/fwmark-78"}, names); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
	want := ""
	for _, m := range []string{"-t 10.77.0.5:80", "-t 10.77.0.6:8080", "-t 10.77.0.7:8080", "-f 78"} {
		want += "-A " + m + " -s wrr -p 30\n" +
			"-a " + m + " -r 10.77.1.1:80 -m -w 2\n" +
			"-a " + m + " -r 10.77.1.2:8080 -m -w 3\n"
	}
	if d := cmp.Diff(want, ipvsadm.Format(svcs)); d != "" {
		t.Errorf("IPVS table (-want +got):\n%s", d)
	}
	// conf.d: the group and its service in one file.
	files := res.Files()
	if len(files) != 1 || files[0].Name != "service-G.hcl" || !strings.Contains(string(files[0].Data), "virtual_service_group") {
		t.Errorf("files: %+v", files)
	}
}
