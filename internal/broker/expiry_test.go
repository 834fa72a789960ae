package broker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// A connection whose certificate expires while it is connected is closed
// at expiry: MQTT 5 DISCONNECT 0x8C, as for a certificate made INACTIVE.
func TestCertificateExpiresWhileConnected(t *testing.T) {
	srv := moattest.Start(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(3 * time.Second).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "short-lived"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	d := moattest.Device{CertPEM: certPEM, KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))}
	if d.TLS, err = tls.X509KeyPair([]byte(d.CertPEM), []byte(d.KeyPEM)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := srv.IoT()
	reg, err := c.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(certPEM), Status: types.CertificateStatusActive})
	if err != nil {
		t.Fatalf("RegisterCertificateWithoutCA: %v", err)
	}
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("short"), PolicyDocument: aws.String(appPolicy(srv))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("short"), Target: reg.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, srv, &d, "app-1")
	select {
	case got := <-w.reason:
		if got != 0x8C {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x8c", got)
		}
		if late := time.Since(notAfter); late < 0 || late > time.Second {
			t.Errorf("closed %v after notAfter, want within 1 s after it", late)
		}
	case <-time.After(time.Until(notAfter) + 2*time.Second):
		t.Fatal("the connection outlived its certificate")
	}
}
