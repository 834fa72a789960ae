package server_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

// crlPolicy lets any client connect and publish under its client id.
const crlPolicy = `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/*"},
{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/*"}]}`

// crlRegisterCA registers ca ACTIVE (DEFAULT mode) without auto-registration.
func crlRegisterCA(t *testing.T, c *iot.Client, ca *jitpCert) {
	t.Helper()
	ctx := context.Background()
	code, err := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatalf("GetRegistrationCode: %v", err)
	}
	ver := jitpIssue(t, pkix.Name{CommonName: aws.ToString(code.RegistrationCode)}, ca)
	if _, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem),
		VerificationCertificate: aws.String(ver.pem), SetAsActive: true}); err != nil {
		t.Fatalf("RegisterCACertificate: %v", err)
	}
}

// crlRegisterDevice registers dev ACTIVE with its CA and attaches the
// policy named policy.
func crlRegisterDevice(t *testing.T, c *iot.Client, dev, ca *jitpCert, policy string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(dev.pem),
		CaCertificatePem: aws.String(ca.pem), Status: types.CertificateStatusActive})
	if err != nil {
		t.Fatalf("RegisterCertificate: %v", err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(policy), Target: out.CertificateArn}); err != nil {
		t.Fatalf("AttachPolicy: %v", err)
	}
}

// crlDial connects an MQTT 5 client with dev's certificate; the server's
// DISCONNECT reason code arrives on the returned channel.
func crlDial(t *testing.T, srv *moattest.Server, dev *jitpCert, id string) (*paho.Client, <-chan byte, error) {
	t.Helper()
	cfg := srv.MQTTTLS(nil)
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{dev.cert.Raw}, PrivateKey: dev.key, Leaf: dev.cert}}
	conn, err := tls.Dial("tcp", srv.MQTTAddr, cfg)
	if err != nil {
		return nil, nil, err
	}
	reason := make(chan byte, 1)
	c := paho.NewClient(paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn),
		OnServerDisconnect: func(d *paho.Disconnect) { reason <- d.ReasonCode }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true}); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c, reason, nil
}

// writeCRL atomically replaces path with a PEM CRL of ca listing serials.
func writeCRL(t *testing.T, path string, ca *jitpCert, serials ...*big.Int) {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestCRL_LiveRevocation checks --crl end to end: a CRL written while the
// server runs closes the live MQTT connection of a certificate it lists
// within 1 s (DISCONNECT 0x8C), that certificate can no longer connect nor
// publish over HTTPS, and a certificate of the same CA not on the CRL
// keeps working.
func TestCRL_LiveRevocation(t *testing.T) {
	crlPath := filepath.Join(t.TempDir(), "customer-ca.crl")
	srv := moattest.Start(t, func(c *config.Config) { c.CRLs = []string{crlPath} })
	c := srv.IoT()
	ca := jitpIssue(t, pkix.Name{CommonName: "customer CA"}, nil)
	crlRegisterCA(t, c, ca)
	if _, err := c.CreatePolicy(context.Background(), &iot.CreatePolicyInput{PolicyName: aws.String("crl-devices"), PolicyDocument: aws.String(crlPolicy)}); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	revoked := jitpIssue(t, pkix.Name{CommonName: "revoked"}, ca)
	kept := jitpIssue(t, pkix.Name{CommonName: "kept"}, ca)
	crlRegisterDevice(t, c, revoked, ca, "crl-devices")
	crlRegisterDevice(t, c, kept, ca, "crl-devices")

	_, revokedReason, err := crlDial(t, srv, revoked, "revoked-1")
	if err != nil {
		t.Fatalf("connect before the CRL: %v", err)
	}
	keptClient, keptReason, err := crlDial(t, srv, kept, "kept-1")
	if err != nil {
		t.Fatalf("connect kept: %v", err)
	}

	writeCRL(t, crlPath, ca, revoked.cert.SerialNumber)
	select {
	case code := <-revokedReason:
		if code != 0x8C {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x8C (bad authentication method)", code)
		}
	case <-time.After(time.Second):
		t.Fatal("the revoked certificate's connection was not closed within 1 s of writing the CRL")
	}

	// The reconnect is refused; over HTTPS too.
	if _, _, err := crlDial(t, srv, revoked, "revoked-2"); err == nil {
		t.Fatal("a certificate on the CRL connected again")
	}
	if code := crlPublishHTTPS(t, srv, revoked); code != http.StatusForbidden {
		t.Fatalf("HTTPS publish with the revoked certificate: %d, want 403", code)
	}

	// The other certificate of the same CA keeps its connection and can
	// still connect and publish.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := keptClient.Publish(ctx, &paho.Publish{Topic: "kept-1/x", QoS: 1, Payload: []byte("still here")}); err != nil {
		t.Fatalf("publish on the kept connection: %v", err)
	}
	select {
	case code := <-keptReason:
		t.Fatalf("the certificate not on the CRL was disconnected (0x%02x)", code)
	default:
	}
	if _, _, err := crlDial(t, srv, kept, "kept-2"); err != nil {
		t.Fatalf("a certificate not on the CRL could not connect: %v", err)
	}
	if code := crlPublishHTTPS(t, srv, kept); code != http.StatusOK {
		t.Fatalf("HTTPS publish with the kept certificate: %d, want 200", code)
	}
}

// crlPublishHTTPS publishes over the HTTPS data plane with dev's
// certificate and returns the status code.
func crlPublishHTTPS(t *testing.T, srv *moattest.Server, dev *jitpCert) int {
	t.Helper()
	hc := srv.HTTPClient(tls.Certificate{Certificate: [][]byte{dev.cert.Raw}, PrivateKey: dev.key, Leaf: dev.cert})
	resp, err := hc.Post(srv.URL+"/topics/crl/test?qos=0", "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
