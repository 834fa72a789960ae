package pki

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/pki/pkitest"
)

// fuzzNow is the time FuzzParseOperatorCert checks validity at; the seed
// chains are valid from 2025 to 2125.
var fuzzNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

const operatorSeedDir = "testdata/fuzz/FuzzParseOperatorCert"

// FuzzParseOperatorCert checks that ParseOperatorCert never panics, that
// every refusal is an *OperatorCertError, and that whatever it accepts is a
// chain whose leaf matches the key and verifies to the returned root.
func FuzzParseOperatorCert(f *testing.F) {
	f.Add([]byte(""), []byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, certPEM, keyPEM, caPEM []byte) {
		op, err := ParseOperatorCert(certPEM, keyPEM, caPEM, fuzzNow)
		if err != nil {
			var oe *OperatorCertError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v is not an *OperatorCertError", err)
			}
			return
		}
		if !publicKeysEqual(op.Leaf().PublicKey, op.Key.Public()) {
			t.Fatal("accepted a key that does not match the leaf")
		}
		if len(caPEM) == 0 && !isSelfSigned(op.Root) {
			t.Fatal("accepted a root that is not self-signed")
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(op.Root)
		for _, c := range op.Chain[1:] {
			inter.AddCert(c)
		}
		if _, err := op.Leaf().Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: fuzzNow,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Fatalf("accepted a chain that does not verify: %v", err)
		}
	})
}

// TestFuzzParseOperatorCertSeeds checks the seed corpus: seeds named ok-*
// are accepted at fuzzNow and bad-* refused, so the fuzzer starts from
// both sides of every check. With -update-seeds it first rewrites them.
func TestFuzzParseOperatorCertSeeds(t *testing.T) {
	if *updateSeeds {
		writeOperatorSeeds(t)
	}
	entries, err := os.ReadDir(operatorSeedDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 4 {
		t.Fatalf("%d seeds in %s, want at least 4 (run with -update-seeds)", len(entries), operatorSeedDir)
	}
	for _, e := range entries {
		args := readSeed(t, filepath.Join(operatorSeedDir, e.Name()))
		_, err := ParseOperatorCert(args[0], args[1], args[2], fuzzNow)
		if ok := strings.HasPrefix(e.Name(), "ok-"); ok != (err == nil) {
			t.Errorf("seed %s: ParseOperatorCert = %v", e.Name(), err)
		}
	}
}

func writeOperatorSeeds(t *testing.T) {
	long := pkitest.ChainOptions{NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC)}
	ec := pkitest.NewChain(t, long)
	long.RSA = true
	rsaChain := pkitest.NewChain(t, long)
	seeds := map[string][3][]byte{
		"ok-ecdsa-full-chain": {ec.FullChainPEM(), ec.KeyPEM(t), nil},
		"ok-rsa-separate-ca":  {rsaChain.ChainPEM(), rsaChain.KeyPEM(t), pkitest.PEM(rsaChain.Root)},
		"bad-no-root":         {ec.ChainPEM(), ec.KeyPEM(t), nil},
		"bad-key-mismatch":    {ec.FullChainPEM(), rsaChain.KeyPEM(t), nil},
		"bad-wrong-ca":        {ec.ChainPEM(), ec.KeyPEM(t), pkitest.PEM(rsaChain.Root)},
		"bad-cert-is-key":     {ec.KeyPEM(t), ec.KeyPEM(t), nil},
		"bad-leaf-only":       {pkitest.PEM(ec.Leaf), ec.KeyPEM(t), pkitest.PEM(ec.Root)},
	}
	if err := os.MkdirAll(operatorSeedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, args := range seeds {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			b.WriteString("[]byte(" + strconv.Quote(string(a)) + ")\n")
		}
		if err := os.WriteFile(filepath.Join(operatorSeedDir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readSeed reads a corpus file of three []byte arguments.
func readSeed(t *testing.T, path string) [3][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var out [3][]byte
	if len(lines) != 4 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: want a header and three arguments", path)
	}
	for i, l := range lines[1:] {
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: argument %d: %v", path, i+1, err)
		}
		out[i] = []byte(s)
	}
	return out
}
