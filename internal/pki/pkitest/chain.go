// Package pkitest makes certificate chains for tests: a root, an
// intermediate and a server leaf, as an operator's CA would issue them.
package pkitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ChainOptions shape the chain NewChain makes. The zero value gives ECDSA
// P-256 keys and a leaf for "localhost" and 127.0.0.1, valid from an hour
// ago for a day, with the serverAuth extended key usage.
type ChainOptions struct {
	// RSA makes every key RSA 2048 instead of ECDSA P-256.
	RSA bool
	// Hosts are the leaf's DNS names and IP addresses; nil means
	// localhost and 127.0.0.1.
	Hosts []string
	// NotBefore and NotAfter bound the leaf's validity; zero means an hour
	// ago and a day from now.
	NotBefore, NotAfter time.Time
	// EKU is the leaf's extended key usage; nil means serverAuth. NoEKU
	// leaves the extension out.
	EKU   []x509.ExtKeyUsage
	NoEKU bool
}

// Chain is a root → intermediate → leaf chain and the leaf's key.
type Chain struct {
	Root, Intermediate, Leaf *x509.Certificate
	LeafKey                  crypto.Signer
}

// NewChain makes a chain; it fails the test on error.
func NewChain(t testing.TB, o ChainOptions) *Chain {
	t.Helper()
	now := time.Now()
	rootKey, interKey, leafKey := newKey(t, o.RSA), newKey(t, o.RSA), newKey(t, o.RSA)
	// The CAs are valid from an hour ago for two days, and at least as
	// long as the leaf.
	caFrom, caUntil := now.Add(-time.Hour), now.Add(48*time.Hour)
	if !o.NotBefore.IsZero() && o.NotBefore.Before(caFrom) {
		caFrom = o.NotBefore
	}
	if o.NotAfter.After(caUntil) {
		caUntil = o.NotAfter
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{
			Subject: pkix.Name{CommonName: cn}, NotBefore: caFrom, NotAfter: caUntil,
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
	}
	rootTmpl := ca("Operator Test Root")
	root := create(t, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	inter := create(t, ca("Operator Test Intermediate"), root, interKey.Public(), rootKey)

	leafTmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: "moat test server"}, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: o.EKU,
	}
	if leafTmpl.NotBefore.IsZero() {
		leafTmpl.NotBefore = now.Add(-time.Hour)
	}
	if leafTmpl.NotAfter.IsZero() {
		leafTmpl.NotAfter = now.Add(24 * time.Hour)
	}
	if o.EKU == nil && !o.NoEKU {
		leafTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	hosts := o.Hosts
	if hosts == nil {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leaf := create(t, leafTmpl, inter, leafKey.Public(), interKey)
	return &Chain{Root: root, Intermediate: inter, Leaf: leaf, LeafKey: leafKey}
}

// ChainPEM is the leaf then the intermediate, in PEM.
func (c *Chain) ChainPEM() []byte { return append(PEM(c.Leaf), PEM(c.Intermediate)...) }

// FullChainPEM is ChainPEM followed by the root.
func (c *Chain) FullChainPEM() []byte { return append(c.ChainPEM(), PEM(c.Root)...) }

// KeyPEM is the leaf's private key in PKCS#8 PEM.
func (c *Chain) KeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.LeafKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PEM encodes c as a CERTIFICATE block.
func PEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// WriteFile writes data to name in dir with mode 0600 and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(t testing.TB, useRSA bool) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	if useRSA {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	sn, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = sn
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
