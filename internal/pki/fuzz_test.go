package pki

import (
	"crypto/elliptic"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// updateSeeds regenerates testdata/fuzz/*/seed-* from freshly made CSRs and
// certificates: go test ./internal/pki -run TestWriteFuzzSeeds -update-seeds
var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// FuzzSignCSR checks that SignCSR never panics, that every refusal is a
// *CSRError, and that whatever it signs is a device certificate for the
// CSR's key that is not a CA.
func FuzzSignCSR(f *testing.F) {
	f.Add("")
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n")
	a := newTestAuthority(f, Options{})
	f.Fuzz(func(t *testing.T, in string) {
		iss, err := a.SignCSR(in)
		if err != nil {
			var ce *CSRError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CSRError", err)
			}
			return
		}
		if iss.Certificate.IsCA || iss.ID != CertificateID(iss.Certificate.Raw) || iss.Certificate.CheckSignatureFrom(a.device) != nil {
			t.Fatalf("bad certificate issued for %q", in)
		}
		csr, err := ParseCSRPEM(in)
		if err != nil || !publicKeysEqual(csr.PublicKey, iss.Certificate.PublicKey) {
			t.Fatalf("issued certificate does not match the CSR: %v", err)
		}
	})
}

// FuzzParseCertificatePEM checks that ParseCertificatePEM never panics, that
// errors wrap ErrInvalidCertificate, and that a parsed certificate
// round-trips through CertificateID.
func FuzzParseCertificatePEM(f *testing.F) {
	f.Add("")
	f.Add("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCertificatePEM(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidCertificate) {
				t.Fatalf("error %v does not wrap ErrInvalidCertificate", err)
			}
			return
		}
		if len(CertificateID(c.Raw)) != 64 {
			t.Fatalf("bad certificate ID")
		}
	})
}

// TestWriteFuzzSeeds writes the seed corpora when -update-seeds is given.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to regenerate testdata/fuzz")
	}
	a := newTestAuthority(t, Options{})
	iss, err := a.CreateKeysAndCertificate()
	if err != nil {
		t.Fatalf("CreateKeysAndCertificate: %v", err)
	}
	p256 := makeCSR(t, ecKey(t, elliptic.P256()), "dev-p256")
	seeds := map[string]map[string]string{
		"FuzzSignCSR": {
			"seed-p256":    p256,
			"seed-p384":    makeCSR(t, ecKey(t, elliptic.P384()), "dev-p384"),
			"seed-rsa2048": makeCSR(t, rsa2048(), "dev-rsa"),
			"seed-twice":   p256 + p256,
			"seed-tamper":  tamper(t, p256),
		},
		"FuzzParseCertificatePEM": {
			"seed-device": iss.CertificatePEM,
			"seed-root":   string(a.RootPEM()),
			"seed-chain":  iss.CertificatePEM + string(a.RootPEM()),
			"seed-key":    iss.PrivateKeyPEM,
		},
	}
	for fuzzer, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", fuzzer)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("mkdir: %v", err)
		}
		for name, s := range files {
			content := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatalf("write: %v", err)
			}
		}
	}
}
