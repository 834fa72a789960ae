package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// crlCA is a CA allowed to sign CRLs, made in-process.
func crlCA(t *testing.T, cn string) *kc {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &kc{key, c}
}

// makeCRL returns a CRL of ca listing serials, DER or PEM.
func makeCRL(t *testing.T, ca *kc, nextUpdate time.Time, asPEM bool, serials ...int64) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now().Add(-2 * time.Hour), NextUpdate: nextUpdate}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: time.Now().Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if asPEM {
		return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	}
	return der
}

// writeCRLFile replaces path's content, with a modification time that
// differs from the previous write's even on coarse clocks.
func writeCRLFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bump := time.Now().Add(time.Duration(len(b)%1000+1) * time.Millisecond)
	if fi, err := os.Stat(path); err == nil && !fi.ModTime().Before(bump) {
		bump = fi.ModTime().Add(time.Millisecond)
	}
	if err := os.Chtimes(path, bump, bump); err != nil {
		t.Fatal(err)
	}
}

// revokedSet records OnRevoked calls.
type revokedSet struct {
	mu  sync.Mutex
	ids []string
}

func (r *revokedSet) add(id string) { r.mu.Lock(); r.ids = append(r.ids, id); r.mu.Unlock() }
func (r *revokedSet) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ids
	r.ids = nil
	return out
}

func newTestCRLs(t *testing.T, paths []string, now func() time.Time, cas ...IssuerCA) (*CRLs, *revokedSet, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	rs := &revokedSet{}
	c, err := NewCRLs(CRLOptions{Paths: paths, Registerer: reg, OnRevoked: rs.add, Now: now,
		CAs: func(context.Context) ([]IssuerCA, error) { return cas, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c, rs, reg
}

// metric returns the value of the named metric with the given label.
func metric(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					if g := m.GetGauge(); g != nil {
						return g.GetValue()
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestParseCRL checks the accepted encodings and that anything else is
// ErrCRLParse.
func TestParseCRL(t *testing.T) {
	ca := crlCA(t, "ca")
	later := time.Now().Add(time.Hour)
	for name, b := range map[string][]byte{"pem": makeCRL(t, ca, later, true, 7), "der": makeCRL(t, ca, later, false, 7)} {
		crl, err := ParseCRL(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 7 {
			t.Fatalf("%s: entries %v", name, crl.RevokedCertificateEntries)
		}
	}
	for name, b := range map[string][]byte{
		"empty":        nil,
		"garbage":      []byte("not a crl"),
		"certificate":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}),
		"cert der":     ca.cert.Raw,
		"truncated":    makeCRL(t, ca, later, false, 7)[:40],
		"bad pem body": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x03, 1, 2, 3}}),
	} {
		if _, err := ParseCRL(b); !errors.Is(err, ErrCRLParse) {
			t.Errorf("%s: err = %v, want ErrCRLParse", name, err)
		}
	}
}

// TestFindIssuer checks that a CRL is matched to the CA that signed it,
// and not to another CA, even one with the same subject name.
func TestFindIssuer(t *testing.T) {
	a, b, twin := crlCA(t, "a"), crlCA(t, "b"), crlCA(t, "a")
	crl, err := ParseCRL(makeCRL(t, a, time.Now().Add(time.Hour), false, 1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FindIssuer(crl, []IssuerCA{{ID: "b", Cert: b.cert}, {ID: "twin", Cert: twin.cert}, {ID: "a", Cert: a.cert}})
	if err != nil || got.ID != "a" {
		t.Fatalf("FindIssuer = %q, %v; want a", got.ID, err)
	}
	if _, err := FindIssuer(crl, []IssuerCA{{ID: "b", Cert: b.cert}, {ID: "twin", Cert: twin.cert}}); !errors.Is(err, ErrCRLIssuer) {
		t.Fatalf("without its CA: err = %v, want ErrCRLIssuer", err)
	}
}

// TestCRLs_Reload checks loading, reloading on change (PEM then DER),
// that a bad file or a CRL of an unknown CA keeps the previous list in
// force, the metrics, and which certificates Revoked matches.
func TestCRLs_Reload(t *testing.T) {
	ctx := context.Background()
	ca, other := crlCA(t, "ca"), crlCA(t, "other")
	leaf5, leaf6 := mk(t, 5, ca, false), mk(t, 6, ca, false)
	otherLeaf5 := mk(t, 5, other, false)
	path := filepath.Join(t.TempDir(), "ca.crl")
	later := time.Now().Add(time.Hour)
	c, rs, reg := newTestCRLs(t, []string{path}, time.Now, IssuerCA{ID: "caid", Cert: ca.cert}, IssuerCA{ID: DeviceCA, Cert: other.cert})

	// A missing file is an error and revokes nothing.
	if err := c.Reload(ctx); err == nil || c.Revoked("caid", leaf5.cert) {
		t.Fatalf("missing file: err = %v, revoked = %v", err, c.Revoked("caid", leaf5.cert))
	}

	// PEM: serial 5 revoked, for this CA's certificates only.
	writeCRLFile(t, path, makeCRL(t, ca, later, true, 5))
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Revoked("caid", leaf5.cert) || c.Revoked("caid", leaf6.cert) {
		t.Fatal("after the PEM CRL: want 5 revoked and 6 not")
	}
	if c.Revoked(DeviceCA, otherLeaf5.cert) || c.Revoked("caid", otherLeaf5.cert) || c.Revoked("another", leaf5.cert) {
		t.Fatal("serial 5 of another CA, or under another CA id, is revoked")
	}
	if got := rs.take(); !slices.Equal(got, []string{"caid"}) {
		t.Fatalf("OnRevoked = %q, want [caid]", got)
	}
	if n := metric(t, reg, "moat_crl_revoked_serials", "ca", "caid"); n != 1 {
		t.Fatalf("revoked gauge = %v, want 1", n)
	}

	// Unchanged: not loaded again.
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, reg, "moat_crl_reloads_total", "result", "ok"); n != 1 {
		t.Fatalf("ok reloads = %v, want 1 (an unchanged file is not reloaded)", n)
	}

	// DER with 6 added: both revoked, OnRevoked again.
	writeCRLFile(t, path, makeCRL(t, ca, later, false, 5, 6))
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Revoked("caid", leaf5.cert) || !c.Revoked("caid", leaf6.cert) || !slices.Equal(rs.take(), []string{"caid"}) {
		t.Fatal("after the DER CRL: want 5 and 6 revoked and OnRevoked(caid)")
	}

	// A bad file and a CRL of an unknown CA: errors; 5 and 6 stay revoked.
	stranger := crlCA(t, "stranger")
	for name, b := range map[string][]byte{"garbage": []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
		"wrong issuer": makeCRL(t, stranger, later, false, 9)} {
		writeCRLFile(t, path, b)
		if err := c.Reload(ctx); err == nil {
			t.Fatalf("%s: no error", name)
		}
		if !c.Revoked("caid", leaf5.cert) || !c.Revoked("caid", leaf6.cert) {
			t.Fatalf("%s: the previous CRL is no longer in force", name)
		}
	}
	if n := metric(t, reg, "moat_crl_reloads_total", "result", "failed"); n != 3 {
		t.Fatalf("failed reloads = %v, want 3 (missing, garbage, wrong issuer)", n)
	}
	if len(rs.take()) != 0 {
		t.Fatal("OnRevoked called after failed loads")
	}

	// Removing serials: the smaller list replaces the old, no OnRevoked.
	writeCRLFile(t, path, makeCRL(t, ca, later, false))
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Revoked("caid", leaf5.cert) || len(rs.take()) != 0 {
		t.Fatal("an empty CRL still revokes 5, or announced revocations")
	}
	if n := metric(t, reg, "moat_crl_revoked_serials", "ca", "caid"); n != 0 {
		t.Fatalf("revoked gauge = %v, want 0", n)
	}
}

// TestCRLs_Stale checks that a CRL past its NextUpdate stays in force and
// is reported stale.
func TestCRLs_Stale(t *testing.T) {
	ca := crlCA(t, "ca")
	path := filepath.Join(t.TempDir(), "ca.pem")
	writeCRLFile(t, path, makeCRL(t, ca, time.Now().Add(-time.Minute), true, 5))
	now := time.Now()
	c, _, _ := newTestCRLs(t, []string{path}, func() time.Time { return now }, IssuerCA{ID: "caid", Cert: ca.cert})
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !c.Stale(path) || !c.Revoked("caid", mk(t, 5, ca, false).cert) {
		t.Fatalf("stale = %v, want a stale CRL still in force", c.Stale(path))
	}
	fresh := filepath.Join(t.TempDir(), "fresh.pem")
	writeCRLFile(t, fresh, makeCRL(t, ca, now.Add(time.Hour), true, 5))
	c, _, _ = newTestCRLs(t, []string{fresh}, func() time.Time { return now }, IssuerCA{ID: "caid", Cert: ca.cert})
	if err := c.Reload(context.Background()); err != nil || c.Stale(fresh) {
		t.Fatalf("fresh CRL: err = %v, stale = %v", err, c.Stale(fresh))
	}
}

// TestCRLs_Watch checks that the watcher picks a change up without a
// Reload call, and that Close stops it.
func TestCRLs_Watch(t *testing.T) {
	ca := crlCA(t, "ca")
	leaf := mk(t, 5, ca, false)
	path := filepath.Join(t.TempDir(), "ca.crl")
	c, rs, _ := newTestCRLs(t, []string{path}, time.Now, IssuerCA{ID: "caid", Cert: ca.cert})
	c.o.Interval = 10 * time.Millisecond
	c.Start()
	defer c.Close()
	writeCRLFile(t, path, makeCRL(t, ca, time.Now().Add(time.Hour), false, 5))
	deadline := time.Now().Add(5 * time.Second)
	for !c.Revoked("caid", leaf.cert) {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not load the new CRL within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	if got := rs.take(); !slices.Equal(got, []string{"caid"}) {
		t.Fatalf("OnRevoked = %q", got)
	}
}

// FuzzParseCRL checks that ParseCRL never panics and that whatever it
// accepts has a usable issuer and entries.
func FuzzParseCRL(f *testing.F) {
	f.Add([]byte("not a crl"))
	f.Fuzz(func(t *testing.T, b []byte) {
		crl, err := ParseCRL(b)
		if err != nil {
			if !errors.Is(err, ErrCRLParse) {
				t.Fatalf("error %v is not ErrCRLParse", err)
			}
			return
		}
		for _, e := range crl.RevokedCertificateEntries {
			_ = e.SerialNumber.String()
		}
		_, _ = FindIssuer(crl, nil)
	})
}
