package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

type kc struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func mk(t *testing.T, n int64, parent *kc, isCA bool) *kc {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "c"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: isCA}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &kc{key, c}
}

func rec(c *kc) store.CACertificate {
	return store.CACertificate{ID: pki.CertificateID(c.cert.Raw), PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))}
}

// TestVerifyChain checks which registered CA anchors a chain: through an
// intermediate the device sent, not without it, not another CA, and never
// a registered CA presented as its own leaf.
func TestVerifyChain(t *testing.T) {
	root, other := mk(t, 1, nil, true), mk(t, 2, nil, true)
	inter := mk(t, 3, root, true)
	leaf := mk(t, 4, inter, false)
	now := time.Now()
	cas := []store.CACertificate{rec(other), rec(root)}
	if ca, ok := verifyChain(cas, []*x509.Certificate{leaf.cert, inter.cert}, now); !ok || ca.ID != rec(root).ID {
		t.Fatalf("with intermediate: %v %v, want root", ca.ID, ok)
	}
	if _, ok := verifyChain(cas, []*x509.Certificate{leaf.cert}, now); ok {
		t.Fatal("verified without the intermediate")
	}
	if _, ok := verifyChain([]store.CACertificate{rec(other)}, []*x509.Certificate{leaf.cert, inter.cert}, now); ok {
		t.Fatal("verified against another CA")
	}
	if _, ok := verifyChain(cas, []*x509.Certificate{root.cert}, now); ok {
		t.Fatal("a registered CA verified as its own device certificate")
	}
	if _, ok := verifyChain(cas, []*x509.Certificate{leaf.cert, inter.cert}, now.Add(2*time.Hour)); ok {
		t.Fatal("verified after expiry")
	}
}

// TestCheckCA checks the CA-ness rules.
func TestCheckCA(t *testing.T) {
	if err := checkCA(mk(t, 1, nil, true).cert); err != nil {
		t.Fatalf("CA refused: %v", err)
	}
	if err := checkCA(mk(t, 2, nil, false).cert); err == nil {
		t.Fatal("non-CA accepted")
	}
	c := mk(t, 3, nil, true).cert
	c.KeyUsage = x509.KeyUsageDigitalSignature
	if err := checkCA(c); err == nil {
		t.Fatal("CA without keyCertSign accepted")
	}
}

// TestRegisteredEvent checks the JITR event's members (reference §6.3).
func TestRegisteredEvent(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	var ev map[string]any
	if err := json.Unmarshal(RegisteredEvent("000000000000", "ca", "cert", PendingActivation, at), &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"certificateId": "cert", "caCertificateId": "ca", "timestamp": float64(1700000000123),
		"certificateStatus": "PENDING_ACTIVATION", "awsAccountId": "000000000000", "certificateRegistrationTimestamp": "1700000000123"}
	if len(ev) != len(want) {
		t.Fatalf("event = %v", ev)
	}
	for k, v := range want {
		if ev[k] != v {
			t.Fatalf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if got := RegisteredTopic("ca"); got != "$aws/events/certificates/registered/ca" {
		t.Fatalf("topic %s", got)
	}
}
