package control_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// selfSigned returns a self-signed device certificate (PEM) and its id.
func selfSigned(t *testing.T, key crypto.Signer, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "device"},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), hex.EncodeToString(sum[:])
}

func ecKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRegisterCertificateWithoutCA checks registration of a self-signed
// certificate: the id is the SHA-256 of the DER, the record is SNI_ONLY with
// the status asked (INACTIVE by default), a second registration is
// ResourceAlreadyExists, and the certificate then works like any other.
func TestRegisterCertificateWithoutCA(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	now := time.Now()
	certPEM, id := selfSigned(t, ecKey(t), now.Add(-time.Hour), now.Add(24*time.Hour))

	out, err := c.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(certPEM), Status: types.CertificateStatusActive})
	if err != nil {
		t.Fatalf("RegisterCertificateWithoutCA: %v", err)
	}
	certARN := "arn:aws:iot:us-east-1:000000000000:cert/" + id
	if aws.ToString(out.CertificateId) != id || aws.ToString(out.CertificateArn) != certARN {
		t.Fatalf("output = %s %s, want %s %s", aws.ToString(out.CertificateId), aws.ToString(out.CertificateArn), id, certARN)
	}
	d, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	cd := d.CertificateDescription
	if cd.CertificateMode != types.CertificateModeSniOnly || cd.Status != types.CertificateStatusActive ||
		aws.ToString(cd.CertificatePem) != certPEM || aws.ToString(cd.CaCertificateId) != "" || cd.Validity == nil || cd.Validity.NotAfter == nil {
		t.Fatalf("DescribeCertificate = %+v", cd)
	}

	// The same certificate again, whatever the status.
	_, err = c.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(certPEM)})
	apiErr(t, err, "ResourceAlreadyExistsException", 409)
	var rae *types.ResourceAlreadyExistsException
	if !errors.As(err, &rae) || aws.ToString(rae.ResourceId) != id || aws.ToString(rae.ResourceArn) != certARN {
		t.Fatalf("err = %v, want the id and ARN", err)
	}

	// Without a status: INACTIVE.
	other, otherID := selfSigned(t, ecKey(t), now.Add(-time.Hour), now.Add(time.Hour))
	if _, err := c.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(otherID)})
	if d.CertificateDescription.Status != types.CertificateStatusInactive {
		t.Fatalf("status = %s, want INACTIVE", d.CertificateDescription.Status)
	}

	// A registered certificate takes attachments and can be deleted as
	// usual.
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("dev"), Principal: aws.String(certARN)}); err != nil {
		t.Fatalf("AttachThingPrincipal: %v", err)
	}
	if _, err := c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(otherID)}); err != nil {
		t.Fatalf("DeleteCertificate: %v", err)
	}
	list, err := c.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if err != nil || len(list.Certificates) != 1 || list.Certificates[0].CertificateMode != types.CertificateModeSniOnly {
		t.Fatalf("ListCertificates = %+v, %v", list, err)
	}
}

// TestRegisterCertificateWithoutCA_Refused checks each refusal:
// CertificateValidationException for what is not an acceptable
// certificate, InvalidRequestException for a bad request; nothing is
// recorded.
func TestRegisterCertificateWithoutCA_Refused(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	now := time.Now()
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak, _ := selfSigned(t, rsa1024, now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := selfSigned(t, ecKey(t), now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	future, _ := selfSigned(t, ecKey(t), now.Add(24*time.Hour), now.Add(48*time.Hour))
	good, _ := selfSigned(t, ecKey(t), now.Add(-time.Hour), now.Add(time.Hour))
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	badCurve, _ := selfSigned(t, p224, now.Add(-time.Hour), now.Add(time.Hour))

	tests := []struct {
		name   string
		pem    string
		status types.CertificateStatus
		code   string
		st     int
	}{
		{"not PEM", "hello", "", "CertificateValidationException", 400},
		{"garbage DER", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", "CertificateValidationException", 400},
		{"two certificates", good + good, "", "CertificateValidationException", 400},
		{"RSA 1024", weak, "", "CertificateValidationException", 400},
		{"P-224", badCurve, "", "CertificateValidationException", 400},
		{"expired", expired, "", "CertificateValidationException", 400},
		{"not yet valid", future, "", "CertificateValidationException", 400},
		{"status REVOKED", good, types.CertificateStatusRevoked, "InvalidRequestException", 400},
		{"status PENDING_TRANSFER", good, types.CertificateStatusPendingTransfer, "InvalidRequestException", 400},
		{"too long", strings.Repeat("x", 65537), "", "InvalidRequestException", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(tt.pem), Status: tt.status})
			apiErr(t, err, tt.code, tt.st)
		})
	}
	// No certificatePem at all (the SDK would not send it).
	resp, body := srv.Do(t, http.MethodPost, "/certificate/register-no-ca", []byte(`{"status":"ACTIVE"}`), "iot", nil)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestException" {
		t.Fatalf("no certificatePem: %d %s", resp.StatusCode, body)
	}
	list, err := c.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if err != nil || len(list.Certificates) != 0 {
		t.Fatalf("refused registrations left %+v, %v", list, err)
	}
}
