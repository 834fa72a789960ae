package provisioning

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"
)

// newCert makes a self-signed certificate with the given subject.
func newCert(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

const testCertID = "4f0ba725787aa94d67d2fca420eca022242532e8b3c58e7465c7778b443fd65e"

// TestCertificateParameters checks every documented subject field, that
// SerialNumber is the subject attribute rather than the certificate serial,
// and that absent fields are absent.
func TestCertificateParameters(t *testing.T) {
	full := newCert(t, pkix.Name{
		Country: []string{"FR"}, Organization: []string{"Acme"}, OrganizationalUnit: []string{"Lamps", "Second"},
		Province: []string{"Rhone"}, CommonName: "lamp-7", SerialNumber: "SN-7",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 46}, Value: "dnq-1"}},
	})
	got := CertificateParameters(full, testCertID)
	want := map[string]string{
		"AWS::IoT::Certificate::Country":                    "FR",
		"AWS::IoT::Certificate::Organization":               "Acme",
		"AWS::IoT::Certificate::OrganizationalUnit":         "Lamps",
		"AWS::IoT::Certificate::DistinguishedNameQualifier": "dnq-1",
		"AWS::IoT::Certificate::StateName":                  "Rhone",
		"AWS::IoT::Certificate::CommonName":                 "lamp-7",
		"AWS::IoT::Certificate::SerialNumber":               "SN-7",
		"AWS::IoT::Certificate::Id":                         testCertID,
	}
	if !maps.Equal(got, want) {
		t.Errorf("full subject:\ngot  %v\nwant %v", got, want)
	}

	// A certificate with only a CN yields CN and Id alone.
	cnOnly := CertificateParameters(newCert(t, pkix.Name{CommonName: "only-cn"}), testCertID)
	want = map[string]string{"AWS::IoT::Certificate::CommonName": "only-cn", "AWS::IoT::Certificate::Id": testCertID}
	if !maps.Equal(cnOnly, want) {
		t.Errorf("CN only: got %v, want %v", cnOnly, want)
	}
}

// TestJITPWithCertificate runs AWS's documented JITP template against real
// certificates: one with every field it declares provisions, one without
// Country fails with ErrMissingParameter as AWS documents.
func TestJITPWithCertificate(t *testing.T) {
	c := readGolden(t, "testdata/golden/aws_jitp_example.txt")
	tmpl, err := Parse(c.sections["template"])
	if err != nil {
		t.Fatal(err)
	}
	cert := newCert(t, pkix.Name{CommonName: "lamp-9", Country: []string{"DE"}, SerialNumber: "S9"})
	plan, err := tmpl.Execute(CertificateParameters(cert, testCertID))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Thing.ThingName != "lamp-9" || plan.Thing.ThingGroups[1] != "DE" || plan.Thing.Attributes["serialNumber"] != "S9" {
		t.Errorf("thing plan %+v", plan.Thing)
	}
	if plan.Certificate.CertificateID != testCertID || plan.Certificate.Status != "ACTIVE" {
		t.Errorf("certificate plan %+v", plan.Certificate)
	}
	noCountry := newCert(t, pkix.Name{CommonName: "lamp-9", SerialNumber: "S9"})
	_, err = tmpl.Execute(CertificateParameters(noCountry, testCertID))
	if !errors.Is(err, ErrMissingParameter) {
		t.Errorf("no Country: got %v, want ErrMissingParameter", err)
	}
}

// TestTemplate_ExecuteTwice checks that Execute does not change the
// template: two runs with different parameters give independent plans.
func TestTemplate_ExecuteTwice(t *testing.T) {
	tmpl, err := Parse(`{"Parameters":{"N":{"Type":"String"}},"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"N"},"ThingGroups":[{"Ref":"N"}]}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tmpl.Execute(map[string]string{"N": "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.Execute(map[string]string{"N": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Thing.ThingName != "a" || a.Thing.ThingGroups[0] != "a" || b.Thing.ThingName != "b" {
		t.Errorf("plans %+v %+v", a.Thing, b.Thing)
	}
}

// TestParse_Limits checks the body size and nesting limits.
func TestParse_Limits(t *testing.T) {
	big := `{"Resources":{},"Description":"` + string(make([]byte, MaxBodySize)) + `"}`
	if _, err := Parse(big); !errors.Is(err, ErrSyntax) {
		t.Errorf("oversized body: got %v, want ErrSyntax", err)
	}
	deep := `{"Resources":{},"Metadata":`
	for range MaxNesting {
		deep += "["
	}
	for range MaxNesting {
		deep += "]"
	}
	deep += "}"
	if _, err := Parse(deep); !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep body: got %v, want ErrSyntax", err)
	}
}

// TestAction_String checks the spelling of every action.
func TestAction_String(t *testing.T) {
	for a, want := range map[Action]string{DoNothing: "DO_NOTHING", Replace: "REPLACE", Fail: "FAIL", Merge: "MERGE", Action(9): "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("%d: got %q, want %q", a, got, want)
		}
	}
}
