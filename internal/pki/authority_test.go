package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreate_Bootstrap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	a := newTestAuthority(t, Options{Dir: dir})

	// The data dir is created private.
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("stat dir: %v", err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Fatalf("data dir mode = %04o, want 0700", m)
	}
	modes := map[string]os.FileMode{
		RootCertFile: 0o644, RootKeyFile: 0o600,
		ServerCertFile: 0o644, ServerKeyFile: 0o600,
		DeviceCertFile: 0o644, DeviceKeyFile: 0o600,
	}
	for name, want := range modes {
		// Each file exists with its mode: keys 0600, certificates 0644.
		t.Run(name, func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("stat: %v", err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Fatalf("mode = %04o, want %04o", got, want)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(modes) {
		t.Fatalf("data dir holds %d entries, want %d (no temp files left behind)", len(entries), len(modes))
	}
	if r := a.Report(); len(r.Created) != 6 || r.ServerIssued == "" {
		t.Fatalf("report = %+v, want 6 files created and a server issue reason", r)
	}
	root := a.RootCertificate()
	if !strings.HasPrefix(root.Subject.CommonName, "moat Root CA ") || !root.IsCA || !root.MaxPathLenZero ||
		root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Fatalf("root CA fields: CN %q IsCA %v MaxPathLenZero %v KeyUsage %v", root.Subject.CommonName, root.IsCA, root.MaxPathLenZero, root.KeyUsage)
	}
	if d := root.NotAfter.Sub(root.NotBefore); d < RootValidity {
		t.Fatalf("root validity %v, want at least %v", d, RootValidity)
	}
	leaf := a.ServerCertificate().Leaf
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || leaf.IsCA {
		t.Fatalf("server cert ExtKeyUsage %v IsCA %v", leaf.ExtKeyUsage, leaf.IsCA)
	}
	if a.device.Subject.CommonName == root.Subject.CommonName || a.device.CheckSignatureFrom(root) == nil {
		t.Fatalf("device CA must be a separate CA, not signed by the root")
	}
	if a.RootPath() != filepath.Join(dir, RootCertFile) {
		t.Fatalf("RootPath = %q", a.RootPath())
	}
	onDisk, _ := os.ReadFile(a.RootPath())
	if string(onDisk) != string(a.RootPEM()) {
		t.Fatalf("RootPEM differs from %s", RootCertFile)
	}
}

func TestLoadOrCreate_ServerCertVerifies(t *testing.T) {
	a := newTestAuthority(t, Options{})
	pool := x509.NewCertPool()
	pool.AddCert(a.RootCertificate())
	leaf := a.ServerCertificate().Leaf
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		// The server certificate chains to root-ca.pem for each default name.
		t.Run(name, func(t *testing.T) {
			_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
	// A name that was not configured is not in the certificate.
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
		t.Fatalf("verify for example.com succeeded")
	}
}

func TestLoadOrCreate_Reuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := newTestAuthority(t, Options{Dir: dir})
	before := readFiles(t, dir, allFiles...)

	// A second start reuses every file byte for byte and reports nothing new.
	second := newTestAuthority(t, Options{Dir: dir})
	sameFiles(t, before, readFiles(t, dir, allFiles...), allFiles...)
	if r := second.Report(); len(r.Created) != 0 || r.ServerIssued != "" || len(r.Warnings) != 0 {
		t.Fatalf("second report = %+v, want empty", r)
	}
	if !first.ServerCertificate().Leaf.Equal(second.ServerCertificate().Leaf) {
		t.Fatalf("server certificate differs")
	}
}

func TestLoadOrCreate_Reissue(t *testing.T) {
	type step struct {
		opts      func(dir string) Options
		wantNew   []string // files that must change
		wantSame  []string // files that must not change
		wantNames []string // names the new server cert must cover
	}
	tests := map[string]step{
		// A new host name reissues server.pem with the same key and root.
		"new hostname": {
			opts:      func(dir string) Options { return Options{Dir: dir, Hostnames: []string{"localhost", "Moat.Example."}} },
			wantNew:   []string{ServerCertFile},
			wantSame:  []string{RootCertFile, RootKeyFile, ServerKeyFile, DeviceCertFile, DeviceKeyFile},
			wantNames: []string{"localhost", "moat.example", "127.0.0.1"},
		},
		// A subset of the names already covered changes nothing.
		"subset of names": {
			opts:     func(dir string) Options { return Options{Dir: dir, Hostnames: []string{"127.0.0.1"}} },
			wantSame: allFiles,
		},
		// Within 30 days of expiry the server certificate is renewed.
		"near expiry": {
			opts: func(dir string) Options {
				return Options{Dir: dir, Now: func() time.Time { return time.Now().Add(ServerValidity - 10*24*time.Hour) }}
			},
			wantNew:   []string{ServerCertFile},
			wantSame:  []string{RootCertFile, RootKeyFile, ServerKeyFile},
			wantNames: []string{"localhost"},
		},
		// A new server key type gives a new key and certificate, same root.
		"key type change": {
			opts:      func(dir string) Options { return Options{Dir: dir, ServerKeyType: RSA2048} },
			wantNew:   []string{ServerCertFile, ServerKeyFile},
			wantSame:  []string{RootCertFile, RootKeyFile, DeviceCertFile, DeviceKeyFile},
			wantNames: []string{"localhost"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			newTestAuthority(t, Options{Dir: dir})
			before := readFiles(t, dir, allFiles...)
			a := newTestAuthority(t, tc.opts(dir))
			after := readFiles(t, dir, allFiles...)
			sameFiles(t, before, after, tc.wantSame...)
			for _, n := range tc.wantNew {
				if string(before[n]) == string(after[n]) {
					t.Fatalf("%s did not change", n)
				}
			}
			if (len(tc.wantNew) > 0) != (a.Report().ServerIssued != "") {
				t.Fatalf("report = %+v", a.Report())
			}
			pool := x509.NewCertPool()
			pool.AddCert(a.RootCertificate())
			for _, h := range tc.wantNames {
				if _, err := a.ServerCertificate().Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: tc.opts(dir).now()}); err != nil {
					t.Fatalf("verify %s: %v", h, err)
				}
			}
		})
	}
}

func TestLoadOrCreate_BadFiles(t *testing.T) {
	garbage := []byte("-----BEGIN EC PRIVATE KEY-----\nnot base64!\n-----END EC PRIVATE KEY-----\n")
	tests := map[string]struct {
		damage  func(t *testing.T, dir string)
		wantMsg []string // substrings of the error
	}{
		// A corrupt root key is reported by name and not replaced.
		"corrupt root key": {
			damage:  func(t *testing.T, dir string) { write(t, dir, RootKeyFile, garbage, 0o600) },
			wantMsg: []string{RootKeyFile, "not a usable private key"},
		},
		// A corrupt device CA certificate is reported by name.
		"corrupt device CA cert": {
			damage:  func(t *testing.T, dir string) { write(t, dir, DeviceCertFile, []byte("hello"), 0o644) },
			wantMsg: []string{DeviceCertFile},
		},
		// A corrupt server key is an error too (not silently reissued).
		"corrupt server key": {
			damage:  func(t *testing.T, dir string) { write(t, dir, ServerKeyFile, garbage, 0o600) },
			wantMsg: []string{ServerKeyFile, "not a usable private key"},
		},
		// A root key that does not match root-ca.pem is detected.
		"mismatched root key": {
			damage: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, DeviceKeyFile))
				write(t, dir, RootKeyFile, b, 0o600)
			},
			wantMsg: []string{RootKeyFile, "does not match", RootCertFile},
		},
		// A server key that does not match server.pem is detected.
		"mismatched server key": {
			damage: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, DeviceKeyFile))
				write(t, dir, ServerKeyFile, b, 0o600)
			},
			wantMsg: []string{ServerKeyFile, "does not match"},
		},
		// A root key without its certificate is never replaced by a new root.
		"root cert missing": {
			damage:  func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, RootCertFile)) },
			wantMsg: []string{RootKeyFile, "exists but", RootCertFile, "missing"},
		},
		// A private key readable by others is refused.
		"key mode too open": {
			damage:  func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, DeviceKeyFile), 0o644) },
			wantMsg: []string{DeviceKeyFile, "0644", "chmod 600"},
		},
		// A world-writable data dir is refused.
		"dir world-writable": {
			damage:  func(t *testing.T, dir string) { os.Chmod(dir, 0o777) },
			wantMsg: []string{"writable", "chmod go-w"},
		},
		// Two certificates in root-ca.pem are refused.
		"two roots": {
			damage: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, RootCertFile))
				write(t, dir, RootCertFile, append(b, b...), 0o644)
			},
			wantMsg: []string{RootCertFile, "exactly one certificate"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !checkUnix && strings.Contains(name, "mode") {
				t.Skip("no Unix permissions")
			}
			dir := filepath.Join(t.TempDir(), "data")
			newTestAuthority(t, Options{Dir: dir})
			tc.damage(t, dir)
			before := snapshot(t, dir)
			_, err := LoadOrCreate(Options{Dir: dir})
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded")
			}
			for _, s := range tc.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("error %q does not mention %q", err, s)
				}
			}
			after := snapshot(t, dir)
			if len(before) != len(after) {
				t.Fatalf("files changed: %d before, %d after", len(before), len(after))
			}
			for n, b := range before {
				if after[n] != b {
					t.Fatalf("%s was modified", n)
				}
			}
		})
	}
}

func TestLoadOrCreate_Options(t *testing.T) {
	tests := map[string]Options{
		// Dir is required.
		"no dir": {},
		// Device keys may not be RSA-3072.
		"device rsa3072": {Dir: "x", DeviceKeyType: RSA3072},
		// An unknown server key type is refused.
		"bad server key type": {Dir: "x", ServerKeyType: 42},
		// A host name with a space is refused.
		"bad hostname": {Dir: "x", Hostnames: []string{"a b"}},
		// A wildcard must be the whole first label.
		"bad wildcard": {Dir: "x", Hostnames: []string{"a*.example"}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadOrCreate(o); err == nil {
				t.Fatalf("LoadOrCreate(%+v) succeeded", o)
			}
		})
	}
	// Names of key types round-trip through ParseKeyType.
	for _, k := range []KeyType{ECDSAP256, RSA2048, RSA3072} {
		if got, err := ParseKeyType(k.String()); err != nil || got != k {
			t.Fatalf("ParseKeyType(%q) = %v, %v", k.String(), got, err)
		}
	}
}

func TestAuthority_RenewIfNeeded(t *testing.T) {
	now := time.Now()
	a := newTestAuthority(t, Options{Now: func() time.Time { return now }})
	old := a.ServerCertificate()

	// A fresh certificate is not renewed.
	if renewed, err := a.RenewIfNeeded(); err != nil || renewed {
		t.Fatalf("RenewIfNeeded = %v, %v; want false", renewed, err)
	}
	// Close to expiry it is, and GetCertificate serves the new one.
	now = now.Add(ServerValidity - RenewBefore + time.Hour)
	if renewed, err := a.RenewIfNeeded(); err != nil || !renewed {
		t.Fatalf("RenewIfNeeded = %v, %v; want true", renewed, err)
	}
	cur, _ := a.GetCertificate(nil)
	if cur.Leaf.Equal(old.Leaf) || !cur.Leaf.NotAfter.After(old.Leaf.NotAfter) {
		t.Fatalf("GetCertificate still returns the old certificate")
	}
	onDisk, err := readCertChainFile(filepath.Join(a.opts.Dir, ServerCertFile))
	if err != nil || !onDisk[0].Equal(cur.Leaf) {
		t.Fatalf("server.pem not updated: %v", err)
	}
}

func write(t *testing.T, dir, name string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
}

// snapshot returns the name -> content|mode of every file in dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fi, _ := e.Info()
		m[e.Name()] = string(b) + fi.Mode().String()
	}
	return m
}
