package moattest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// Device is a device identity made through the real iot API: an ACTIVE
// certificate with its key, optionally attached to a thing and a policy.
type Device struct {
	CertificateID  string
	CertificateARN string
	CertPEM        string
	KeyPEM         string
	TLS            tls.Certificate
}

// DevicePolicy is the seed's device policy for this server's region and
// account: connect as the attached thing, publish/receive/subscribe under
// the client id.
func (s *Server) DevicePolicy() string {
	return strings.NewReplacer("REGION", s.Config.Region, "ACCOUNT", s.Config.AccountID).Replace(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:REGION:ACCOUNT:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/${iot:ClientId}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/${iot:ClientId}/*"}
  ]
}`)
}

// NewDevice creates keys and an ACTIVE certificate; when thing is not
// empty it creates the thing and attaches the certificate; when policyDoc
// is not empty it creates a policy named thing+"-policy" (or "policy-"+id)
// and attaches it.
func (s *Server) NewDevice(t testing.TB, thing, policyDoc string) Device {
	t.Helper()
	ctx := context.Background()
	c := s.IoT()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatalf("CreateKeysAndCertificate: %v", err)
	}
	d := Device{CertificateID: aws.ToString(kc.CertificateId), CertificateARN: aws.ToString(kc.CertificateArn),
		CertPEM: aws.ToString(kc.CertificatePem), KeyPEM: aws.ToString(kc.KeyPair.PrivateKey)}
	d.TLS, err = tls.X509KeyPair([]byte(d.CertPEM), []byte(d.KeyPEM))
	if err != nil {
		t.Fatalf("device key pair: %v", err)
	}
	if thing != "" {
		if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(thing)}); err != nil {
			t.Fatalf("CreateThing: %v", err)
		}
		if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: kc.CertificateArn}); err != nil {
			t.Fatalf("AttachThingPrincipal: %v", err)
		}
	}
	if policyDoc != "" {
		name := thing + "-policy"
		if thing == "" {
			name = "policy-" + d.CertificateID[:12]
		}
		if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(policyDoc)}); err != nil {
			t.Fatalf("CreatePolicy: %v", err)
		}
		if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: kc.CertificateArn}); err != nil {
			t.Fatalf("AttachPolicy: %v", err)
		}
	}
	return d
}

// MQTTTLS is a client TLS config for the MQTT listener with the device's
// certificate (none when d is nil).
func (s *Server) MQTTTLS(d *Device) *tls.Config {
	cfg := &tls.Config{RootCAs: s.RootCAs, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if d != nil {
		cfg.Certificates = []tls.Certificate{d.TLS}
	}
	return cfg
}

// SetCertificateStatus calls UpdateCertificate.
func (s *Server) SetCertificateStatus(t testing.TB, id, status string) {
	t.Helper()
	_, err := s.IoT().UpdateCertificate(context.Background(), &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatus(status)})
	if err != nil {
		t.Fatalf("UpdateCertificate %s: %v", status, err)
	}
}

// SelfSignedDevice is a device identity moat never registered.
func SelfSignedDevice(t testing.TB, cn string) Device {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	d := Device{CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))}
	d.TLS, err = tls.X509KeyPair([]byte(d.CertPEM), []byte(d.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// PlainTextConnect sends an MQTT 3.1.1 CONNECT without TLS and returns nil
// only if a CONNACK comes back.
func PlainTextConnect(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// CONNECT, protocol MQTT 4, clean session, keep-alive 30, client id "x".
	connect := []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 1, 'x'}
	if _, err := conn.Write(connect); err != nil {
		return err
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(conn, b); err != nil {
		return err
	}
	if b[0] != 0x20 {
		return errors.New("not a CONNACK")
	}
	return nil
}
