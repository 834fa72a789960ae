package pki

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/pki/pkitest"
)

// TestParseOperatorCert checks the rules of an operator certificate, each
// refusal naming the part (file) at fault.
func TestParseOperatorCert(t *testing.T) {
	now := time.Now()
	good := pkitest.NewChain(t, pkitest.ChainOptions{})
	other := pkitest.NewChain(t, pkitest.ChainOptions{})
	noEKU := pkitest.NewChain(t, pkitest.ChainOptions{NoEKU: true})
	future := pkitest.NewChain(t, pkitest.ChainOptions{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)})
	cases := map[string]struct {
		cert, key, ca []byte
		wantPart      OperatorPart
		wantErr       string // "" means success
	}{
		// The root ends the chain file.
		"root in chain": {cert: good.FullChainPEM(), key: good.KeyPEM(t)},
		// The root comes from the CA file.
		"root in ca": {cert: good.ChainPEM(), key: good.KeyPEM(t), ca: pkitest.PEM(good.Root)},
		// No EKU at all is accepted, as by TLS clients.
		"no EKU": {cert: noEKU.FullChainPEM(), key: noEKU.KeyPEM(t)},
		// A leaf not yet valid.
		"not yet valid": {cert: future.FullChainPEM(), key: future.KeyPEM(t), wantPart: PartCert, wantErr: "not valid before"},
		// Two certificates in the CA file.
		"two cas": {cert: good.ChainPEM(), key: good.KeyPEM(t), ca: append(pkitest.PEM(good.Root), pkitest.PEM(other.Root)...), wantPart: PartCA, wantErr: "exactly one"},
		// The chain file's last certificate is an intermediate, no CA file.
		"no root": {cert: good.ChainPEM(), key: good.KeyPEM(t), wantPart: PartCert, wantErr: "not a self-signed root"},
		// A self-signed root of another chain appended.
		"foreign root": {cert: append(good.ChainPEM(), pkitest.PEM(other.Root)...), key: good.KeyPEM(t), wantPart: PartCert, wantErr: "does not verify"},
		// The intermediate left out.
		"missing intermediate": {cert: append(pkitest.PEM(good.Leaf), pkitest.PEM(good.Root)...), key: good.KeyPEM(t), wantPart: PartCert, wantErr: "does not verify"},
		// The key of another leaf.
		"key mismatch": {cert: good.FullChainPEM(), key: other.KeyPEM(t), wantPart: PartKey, wantErr: "does not match"},
		// Two keys in the key file.
		"two keys": {cert: good.FullChainPEM(), key: append(good.KeyPEM(t), good.KeyPEM(t)...), wantPart: PartKey, wantErr: "one PEM block"},
		// An empty chain file.
		"empty cert": {cert: []byte("\n"), key: good.KeyPEM(t), wantPart: PartCert, wantErr: "no PEM block"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			op, err := ParseOperatorCert(tc.cert, tc.key, tc.ca, now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseOperatorCert: %v", err)
				}
				if !publicKeysEqual(op.Leaf().PublicKey, op.Key.Public()) || !op.Root.IsCA {
					t.Fatal("inconsistent result")
				}
				return
			}
			var oe *OperatorCertError
			if !errors.As(err, &oe) || oe.Part != tc.wantPart || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseOperatorCert = %v; want %v part error containing %q", err, tc.wantPart, tc.wantErr)
			}
		})
	}
}

// TestCheckOperatorKey checks the key policy: RSA 2048 and up, ECDSA P-256
// and P-384 only.
func TestCheckOperatorKey(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		pub any
		ok  bool
	}{
		"rsa1024": {small.Public(), false},
		"p256":    {ecKey(t, elliptic.P256()).Public(), true},
		"p384":    {ecKey(t, elliptic.P384()).Public(), true},
		"p521":    {ecKey(t, elliptic.P521()).Public(), false},
		"p224":    {ecKey(t, elliptic.P224()).Public(), false},
	} {
		if err := checkOperatorKey(tc.pub); (err == nil) != tc.ok {
			t.Errorf("%s: checkOperatorKey = %v, want ok=%v", name, err, tc.ok)
		}
	}
}

// TestOperatorCert_CheckCovers checks host name coverage: wildcards and IPs
// match, a partial match lists the rest, no match is an error.
func TestOperatorCert_CheckCovers(t *testing.T) {
	c := pkitest.NewChain(t, pkitest.ChainOptions{Hosts: []string{"*.example.com", "10.0.0.1"}})
	op, err := ParseOperatorCert(c.FullChainPEM(), c.KeyPEM(t), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	missing, err := op.CheckCovers([]string{"iot.example.com", "10.0.0.1", "localhost", "a.b.example.com"})
	if err != nil || strings.Join(missing, ",") != "localhost,a.b.example.com" {
		t.Fatalf("CheckCovers = %q, %v; want [localhost a.b.example.com]", missing, err)
	}
	if _, err := op.CheckCovers([]string{"localhost", "127.0.0.1"}); err == nil || !strings.Contains(err.Error(), "covers none") {
		t.Fatalf("CheckCovers of uncovered names = %v, want an error", err)
	}
}

// TestLoadOrCreate_Operator checks the data dir with an operator
// certificate, then back without: root-ca.pem holds the operator's root
// (0644) while moat's own root is parked in root-ca.moat.pem, the device CA
// is untouched, the operator's chain is served and never renewed; dropping
// it restores moat's root and its server certificate.
func TestLoadOrCreate_Operator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	moat := newTestAuthority(t, Options{Dir: dir})
	moatRoot := moat.RootPEM()
	before := readFiles(t, dir, DeviceCertFile, DeviceKeyFile, RootKeyFile, ServerCertFile, ServerKeyFile)

	c := pkitest.NewChain(t, pkitest.ChainOptions{RSA: true})
	op, err := ParseOperatorCert(c.ChainPEM(), c.KeyPEM(t), pkitest.PEM(c.Root), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, err := LoadOrCreate(Options{Dir: dir, Hostnames: []string{"localhost", "moat.example.net"}, Operator: op})
	if err != nil {
		t.Fatalf("LoadOrCreate with Operator: %v", err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, RootCertFile))
	if err != nil || !bytes.Equal(onDisk, pkitest.PEM(c.Root)) || !bytes.Equal(a.RootPEM(), onDisk) {
		t.Fatalf("root-ca.pem = %s, %v; want the operator's root", onDisk, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, RootCertFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("root-ca.pem mode %v, %v; want 0644", fi.Mode().Perm(), err)
	}
	if parked, err := os.ReadFile(filepath.Join(dir, MoatRootCertFile)); err != nil || !bytes.Equal(parked, moatRoot) {
		t.Fatalf("root-ca.moat.pem does not hold moat's root: %v", err)
	}
	sameFiles(t, before, readFiles(t, dir, DeviceCertFile, DeviceKeyFile, RootKeyFile, ServerCertFile, ServerKeyFile),
		DeviceCertFile, DeviceKeyFile, RootKeyFile, ServerCertFile, ServerKeyFile)

	served, err := a.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
	if err != nil || len(served.Certificate) != 2 || !bytes.Equal(served.Certificate[0], c.Leaf.Raw) || !bytes.Equal(served.Certificate[1], c.Intermediate.Raw) {
		t.Fatalf("GetCertificate does not serve the operator's chain: %v", err)
	}
	if renewed, err := a.RenewIfNeeded(); renewed || err != nil {
		t.Fatalf("RenewIfNeeded = %v, %v; want false, nil", renewed, err)
	}
	warned := strings.Join(a.Report().Warnings, "\n")
	if !strings.Contains(warned, "moat.example.net") {
		t.Fatalf("no warning about the uncovered host name: %q", warned)
	}
	// The device CA still issues, and its certificates are not signed by the operator's root.
	iss, err := a.CreateKeysAndCertificate()
	if err != nil || iss.Certificate.CheckSignatureFrom(c.Root) == nil {
		t.Fatalf("CreateKeysAndCertificate: %v", err)
	}

	// A second start with the same certificate changes nothing.
	if _, err := LoadOrCreate(Options{Dir: dir, Operator: op}); err != nil {
		t.Fatalf("second LoadOrCreate with Operator: %v", err)
	}

	// Back to moat's own certificate.
	b, err := LoadOrCreate(Options{Dir: dir})
	if err != nil {
		t.Fatalf("LoadOrCreate without Operator: %v", err)
	}
	if !bytes.Equal(b.RootPEM(), moatRoot) {
		t.Fatal("moat's root CA was not restored")
	}
	if ok, _ := exists(filepath.Join(dir, MoatRootCertFile)); ok {
		t.Fatal("root-ca.moat.pem left behind")
	}
	if !b.ServerCertificate().Leaf.Equal(moat.ServerCertificate().Leaf) {
		t.Fatal("moat's server certificate was not reused")
	}
}

// TestLoadOrCreate_OperatorFreshDir checks a first start with an operator
// certificate: moat's root and device CAs are still created (the root
// parked), and a later start without it finds its own root.
func TestLoadOrCreate_OperatorFreshDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := pkitest.NewChain(t, pkitest.ChainOptions{})
	op, err := ParseOperatorCert(c.FullChainPEM(), c.KeyPEM(t), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(Options{Dir: dir, Operator: op}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{RootKeyFile, MoatRootCertFile, DeviceCertFile, DeviceKeyFile} {
		if ok, _ := exists(filepath.Join(dir, f)); !ok {
			t.Errorf("%s not created", f)
		}
	}
	// Only the hostnames matter: an operator certificate for none of them is refused.
	if _, err := LoadOrCreate(Options{Dir: dir, Hostnames: []string{"iot.example.com"}, Operator: op}); err == nil {
		t.Fatal("LoadOrCreate accepted a certificate covering no host name")
	}
	b, err := LoadOrCreate(Options{Dir: dir})
	if err != nil {
		t.Fatalf("LoadOrCreate without Operator: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.RootPEM())
	if _, err := b.ServerCertificate().Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Fatalf("moat's server certificate does not verify with root-ca.pem: %v", err)
	}
}
