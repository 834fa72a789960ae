package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// TestCertFromX509 checks that subject fields, SANs and the serial reach
// the policy variables.
func TestCertFromX509(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242),
		Subject: pkix.Name{CommonName: "lamp-1", Organization: []string{"Acme"},
			OrganizationalUnit: []string{"fleet-a", "ops"}, Country: []string{"FR"}},
		NotBefore:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:    time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:    []string{"lamp-1.example"},
		IPAddresses: []net.IP{net.ParseIP("192.0.2.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	xc, _ := x509.ParseCertificate(der)
	c := CertFromX509(xc, "id1")
	if c.SerialNumber != "4242" || c.ID != "id1" || c.Subject.CommonName[0] != "lamp-1" ||
		len(c.Subject.OrganizationalUnit) != 2 || c.Issuer.Country[0] != "FR" ||
		c.SubjectAltNames.DNSName[0] != "lamp-1.example" || c.SubjectAltNames.IPAddress[0] != "192.0.2.1" {
		t.Fatalf("got %+v", c)
	}
	v := &Vars{Cert: c}
	k := parseKey("iot:Certificate.Validity.NotAfter")
	if got, _ := v.lookup(&k); got.one != "2034-01-01T00:00:00Z" {
		t.Fatalf("NotAfter: %q", got.one)
	}
}
