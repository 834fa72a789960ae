package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

// jitpCert is a key and certificate made in-process.
type jitpCert struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  string
}

// jitpIssue signs a certificate for subject with parent (self-signed CA
// when parent is nil).
func jitpIssue(t *testing.T, subject pkix.Name, parent *jitpCert) *jitpCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	signer, issuer := key, tmpl
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &jitpCert{key: key, cert: c, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// registerJITPCA registers ca ACTIVE with auto-registration and a JITP
// template, through the iot API.
func registerJITPCA(t *testing.T, c *iot.Client, ca *jitpCert, template string) string {
	t.Helper()
	ctx := context.Background()
	code, err := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatalf("GetRegistrationCode: %v", err)
	}
	ver := jitpIssue(t, pkix.Name{CommonName: aws.ToString(code.RegistrationCode)}, ca)
	out, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem),
		VerificationCertificate: aws.String(ver.pem), SetAsActive: true, AllowAutoRegistration: true,
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(template), RoleArn: aws.String("arn:aws:iam::000000000000:role/JITPRole")}})
	if err != nil {
		t.Fatalf("RegisterCACertificate: %v", err)
	}
	return aws.ToString(out.CertificateId)
}

// jitpConnect connects an MQTT 3.1.1 client with the device certificate.
func jitpConnect(t *testing.T, srv *moattest.Server, dev *jitpCert, id string) (mqtt.Client, error) {
	t.Helper()
	cfg := srv.MQTTTLS(nil)
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{dev.cert.Raw}, PrivateKey: dev.key, Leaf: dev.cert}}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(id).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4).SetConnectTimeout(10 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("connect %s: timeout", id)
	}
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(100) })
	}
	return c, tok.Error()
}

// jitpTemplate is AWS's documented JITP template: the thing named from the
// CommonName with the Country as an attribute, the certificate ACTIVE, and
// an inline policy letting the device use its own topics.
func jitpTemplate(t *testing.T) string {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:Connection.Thing.ThingName}/*"},
{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/${iot:Connection.Thing.ThingName}/*"}]}`
	quoted, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return `{
  "Parameters": {
    "AWS::IoT::Certificate::CommonName": {"Type": "String"},
    "AWS::IoT::Certificate::Country": {"Type": "String"},
    "AWS::IoT::Certificate::Id": {"Type": "String"}
  },
  "Resources": {
    "thing": {
      "Type": "AWS::IoT::Thing",
      "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
        "AttributePayload": {"version": "v1", "country": {"Ref": "AWS::IoT::Certificate::Country"}}
      }
    },
    "certificate": {
      "Type": "AWS::IoT::Certificate",
      "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}
    },
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ` + string(quoted) + `}}
  }
}`
}

func certID(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// TestJITP: a device certificate of a CA with AWS's JITP template is
// provisioned by its first connect, which is refused; the thing, the
// ACTIVE certificate attached to it and the policy attached to the
// certificate are visible through the API; the second connect succeeds and
// may use the topics the policy allows.
func TestJITP(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	ca := jitpIssue(t, pkix.Name{CommonName: "JITP CA"}, nil)
	registerJITPCA(t, c, ca, jitpTemplate(t))
	dev := jitpIssue(t, pkix.Name{CommonName: "lamp-7", Country: []string{"DE"}}, ca)
	id := certID(dev.cert)

	if _, err := jitpConnect(t, srv, dev, "lamp-7"); err == nil {
		t.Fatal("the provisioning connect succeeded; AWS refuses it")
	}
	th, err := c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-7")})
	if err != nil {
		t.Fatalf("DescribeThing: %v", err)
	}
	if th.Attributes["version"] != "v1" || th.Attributes["country"] != "DE" || len(th.Attributes) != 2 {
		t.Fatalf("thing attributes %v", th.Attributes)
	}
	d, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(id)})
	if err != nil || d.CertificateDescription.Status != types.CertificateStatusActive {
		t.Fatalf("DescribeCertificate = %+v, %v", d, err)
	}
	certARN := aws.ToString(d.CertificateDescription.CertificateArn)
	ps, err := c.ListThingPrincipals(ctx, &iot.ListThingPrincipalsInput{ThingName: aws.String("lamp-7")})
	if err != nil || len(ps.Principals) != 1 || ps.Principals[0] != certARN {
		t.Fatalf("ListThingPrincipals = %v, %v; want [%s]", ps, err, certARN)
	}
	ap, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(certARN)})
	if err != nil || len(ap.Policies) != 1 {
		t.Fatalf("ListAttachedPolicies = %v, %v", ap, err)
	}

	m, err := jitpConnect(t, srv, dev, "lamp-7")
	if err != nil {
		t.Fatalf("second connect: %v", err)
	}
	got := make(chan string, 1)
	if tok := m.Subscribe("lamp-7/cmd", 1, func(_ mqtt.Client, msg mqtt.Message) { got <- string(msg.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := m.Publish("lamp-7/cmd", 1, false, "on"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "on" {
			t.Fatalf("received %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the device did not receive its own message")
	}
	// The policy is the template's: another client id is refused.
	if _, err := jitpConnect(t, srv, dev, "lamp-8"); err == nil {
		t.Fatal("connected with a client id the policy does not allow")
	}
}

// TestJITP_MissingParameter: a template whose parameter the certificate
// cannot fill (no Country, no Default) creates nothing; the connect is
// refused and the certificate stays unknown.
func TestJITP_MissingParameter(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	ca := jitpIssue(t, pkix.Name{CommonName: "JITP CA"}, nil)
	caID := registerJITPCA(t, c, ca, jitpTemplate(t))
	dev := jitpIssue(t, pkix.Name{CommonName: "lamp-9"}, ca)

	for range 2 {
		if _, err := jitpConnect(t, srv, dev, "lamp-9"); err == nil {
			t.Fatal("connected although provisioning failed")
		}
	}
	_, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID(dev.cert))})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeCertificate: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-9")}); !errors.As(err, &nf) {
		t.Fatalf("DescribeThing: %v, want ResourceNotFoundException", err)
	}
	byCA, err := c.ListCertificatesByCA(ctx, &iot.ListCertificatesByCAInput{CaCertificateId: aws.String(caID)})
	if err != nil || len(byCA.Certificates) != 0 {
		t.Fatalf("ListCertificatesByCA = %v, %v", byCA, err)
	}
	pols, err := c.ListPolicies(ctx, &iot.ListPoliciesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pols.Policies) != 0 {
		t.Fatalf("policies were created: %+v", pols.Policies)
	}
}
