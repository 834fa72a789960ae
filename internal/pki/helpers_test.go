package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// newTestAuthority creates an authority in a fresh temp data dir.
func newTestAuthority(t testing.TB, opts Options) *Authority {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "data")
	}
	a, err := LoadOrCreate(opts)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return a
}

// rsa2048 is generated once: RSA key generation is slow under -race.
var rsa2048 = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return k
}

// makeCSR returns a PEM CSR for key with the given subject CN and extensions.
func makeCSR(t testing.TB, key crypto.Signer, cn string, exts ...pkix.Extension) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: cn, Organization: []string{"Acme"}},
		ExtraExtensions: exts,
	}, key)
	if err != nil {
		t.Fatalf("create CSR: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// readFiles returns the content of the named files in dir.
func readFiles(t *testing.T, dir string, names ...string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("read %s: %v", n, err)
		}
		m[n] = b
	}
	return m
}

var allFiles = []string{RootCertFile, RootKeyFile, ServerCertFile, ServerKeyFile, DeviceCertFile, DeviceKeyFile}

func sameFiles(t *testing.T, before, after map[string][]byte, names ...string) {
	t.Helper()
	for _, n := range names {
		if !bytes.Equal(before[n], after[n]) {
			t.Fatalf("%s changed", n)
		}
	}
}

// requireOpenSSL returns the openssl path, skipping the test if it is
// missing (failing instead when CI=true).
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not found and CI=true: install openssl")
		}
		t.Skip("openssl not found in PATH; skipping the openssl interoperability check")
	}
	return p
}

// runOpenSSL runs openssl with args and returns its stdout.
func runOpenSSL(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("openssl %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}
