package control_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

// testCA is a CA made in-process: its key, certificate and PEM.
type testCA struct {
	key  crypto.Signer
	cert *x509.Certificate
	pem  string
}

var serial atomic.Int64

// issue signs a certificate for key with parent (self-signed when parent
// is nil); isCA makes a CA (basicConstraints CA:TRUE, keyCertSign).
func issue(t *testing.T, cn string, key crypto.Signer, parent *testCA, isCA bool, nb, na time.Time) *testCA {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1) + time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: nb, NotAfter: na}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{key: key, cert: c, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func valid() (time.Time, time.Time) {
	return time.Now().Add(-time.Hour), time.Now().Add(24 * time.Hour)
}

// registerCA registers ca with a verification certificate for the
// account's registration code.
func registerCA(t *testing.T, c *iot.Client, ca *testCA, active, auto bool) string {
	t.Helper()
	ctx := context.Background()
	code, err := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatalf("GetRegistrationCode: %v", err)
	}
	nb, na := valid()
	ver := issue(t, aws.ToString(code.RegistrationCode), ecKey(t), ca, false, nb, na)
	out, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem),
		VerificationCertificate: aws.String(ver.pem), SetAsActive: active, AllowAutoRegistration: auto})
	if err != nil {
		t.Fatalf("RegisterCACertificate: %v", err)
	}
	return aws.ToString(out.CertificateId)
}

// tlsCert is a client certificate with its chain (leaf, then the rest).
func tlsCert(leaf *testCA, chain ...*testCA) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.cert.Raw)
	}
	return tc
}

// connect311 connects an MQTT 3.1.1 client with cert; onLost is told of a
// lost connection.
func connect311(t *testing.T, srv *moattest.Server, cert tls.Certificate, id string, onLost func()) (mqtt.Client, error) {
	t.Helper()
	cfg := srv.MQTTTLS(nil)
	cfg.Certificates = []tls.Certificate{cert}
	opts := mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(id).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4).SetConnectTimeout(10 * time.Second)
	if onLost != nil {
		opts.SetConnectionLostHandler(func(mqtt.Client, error) { onLost() })
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("connect %s: timeout", id)
	}
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(100) })
	}
	return c, tok.Error()
}

// allowAll lets a certificate connect as any client and use any topic.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`

func attachPolicy(t *testing.T, c *iot.Client, name, doc, target string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: aws.String(target)}); err != nil {
		t.Fatalf("AttachPolicy: %v", err)
	}
}

// TestCACertificate_Lifecycle registers a CA, reads it back, updates and
// lists it, registers a device certificate it signed, and deletes it once
// INACTIVE and without certificates.
func TestCACertificate_Lifecycle(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	nb, na := valid()
	ca := issue(t, "Root", ecKey(t), nil, true, nb, na)

	code1, _ := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	code2, _ := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if got := aws.ToString(code1.RegistrationCode); len(got) != 64 || got != aws.ToString(code2.RegistrationCode) {
		t.Fatalf("registration codes %q, %q: want one stable 64-hex code", got, aws.ToString(code2.RegistrationCode))
	}
	id := registerCA(t, c, ca, true, false)
	if id != sha(ca.cert.Raw) {
		t.Fatalf("CA id %s is not the SHA-256 of the DER", id)
	}
	d, err := c.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	cd := d.CertificateDescription
	if cd.Status != types.CACertificateStatusActive || cd.AutoRegistrationStatus != types.AutoRegistrationStatusDisable ||
		cd.CertificateMode != types.CertificateModeDefault || aws.ToString(cd.CertificatePem) != ca.pem ||
		aws.ToString(cd.OwnedBy) != "000000000000" || aws.ToString(cd.GenerationId) == "" || aws.ToInt32(cd.CustomerVersion) != 1 ||
		cd.Validity == nil || aws.ToString(cd.CertificateArn) != "arn:aws:iot:us-east-1:000000000000:cacert/"+id {
		t.Fatalf("DescribeCACertificate = %+v", cd)
	}

	// The registration config is stored and returned as given.
	_, err = c.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(id),
		NewAutoRegistrationStatus: types.AutoRegistrationStatusEnable,
		RegistrationConfig:        &types.RegistrationConfig{TemplateBody: aws.String(`{"Resources":{}}`), RoleArn: aws.String("arn:aws:iam::000000000000:role/jitp")}})
	if err != nil {
		t.Fatalf("UpdateCACertificate: %v", err)
	}
	d, _ = c.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(id)})
	if d.CertificateDescription.AutoRegistrationStatus != types.AutoRegistrationStatusEnable || d.RegistrationConfig == nil ||
		aws.ToString(d.RegistrationConfig.TemplateBody) != `{"Resources":{}}` || aws.ToInt32(d.CertificateDescription.CustomerVersion) != 2 {
		t.Fatalf("after update: %+v %+v", d.CertificateDescription, d.RegistrationConfig)
	}
	_, err = c.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(id), RemoveAutoRegistration: true})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(id)})
	if d.CertificateDescription.AutoRegistrationStatus != types.AutoRegistrationStatusDisable || d.RegistrationConfig != nil {
		t.Fatalf("after removeAutoRegistration: %+v %+v", d.CertificateDescription, d.RegistrationConfig)
	}

	list, err := c.ListCACertificates(ctx, &iot.ListCACertificatesInput{})
	if err != nil || len(list.Certificates) != 1 || aws.ToString(list.Certificates[0].CertificateId) != id {
		t.Fatalf("ListCACertificates = %+v, %v", list, err)
	}

	// A device certificate it signed.
	dev := issue(t, "dev", ecKey(t), ca, false, nb, na)
	rc, err := c.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(dev.pem),
		CaCertificatePem: aws.String(ca.pem), Status: types.CertificateStatusActive})
	if err != nil {
		t.Fatalf("RegisterCertificate: %v", err)
	}
	dc, _ := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: rc.CertificateId})
	if aws.ToString(dc.CertificateDescription.CaCertificateId) != id || dc.CertificateDescription.Status != types.CertificateStatusActive {
		t.Fatalf("DescribeCertificate = %+v", dc.CertificateDescription)
	}
	by, err := c.ListCertificatesByCA(ctx, &iot.ListCertificatesByCAInput{CaCertificateId: aws.String(id)})
	if err != nil || len(by.Certificates) != 1 || aws.ToString(by.Certificates[0].CertificateId) != aws.ToString(rc.CertificateId) {
		t.Fatalf("ListCertificatesByCA = %+v, %v", by, err)
	}

	// Delete: refused while ACTIVE, then while it has a certificate.
	_, err = c.DeleteCACertificate(ctx, &iot.DeleteCACertificateInput{CertificateId: aws.String(id)})
	apiErr(t, err, "CertificateStateException", 406)
	if _, err := c.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(id), NewStatus: types.CACertificateStatusInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteCACertificate(ctx, &iot.DeleteCACertificateInput{CertificateId: aws.String(id)})
	apiErr(t, err, "CertificateStateException", 406)
	srv.SetCertificateStatus(t, aws.ToString(rc.CertificateId), "INACTIVE")
	if _, err := c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: rc.CertificateId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteCACertificate(ctx, &iot.DeleteCACertificateInput{CertificateId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteCACertificate: %v", err)
	}
	_, err = c.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(id)})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

// TestCACertificate_Refused checks each bad input gets its typed error
// and stores nothing.
func TestCACertificate_Refused(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	nb, na := valid()
	code, _ := c.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	cn := aws.ToString(code.RegistrationCode)
	ca := issue(t, "Root", ecKey(t), nil, true, nb, na)
	other := issue(t, "Other", ecKey(t), nil, true, nb, na)
	notCA := issue(t, "Leaf", ecKey(t), nil, false, nb, na)
	expired := issue(t, "Old", ecKey(t), nil, true, nb.Add(-48*time.Hour), nb.Add(-24*time.Hour))

	reg := func(caPEM, verPEM string) error {
		_, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(caPEM), VerificationCertificate: aws.String(verPEM), SetAsActive: true})
		return err
	}
	cases := map[string]struct {
		err    func() error
		code   string
		status int
	}{
		// Proof of possession fails: the verification certificate is signed by another key.
		"verification signed by another key": {func() error { return reg(ca.pem, issue(t, cn, ecKey(t), other, false, nb, na).pem) }, "CertificateValidationException", 400},
		// The verification certificate's CN is not the registration code.
		"wrong registration code": {func() error { return reg(ca.pem, issue(t, "nope", ecKey(t), ca, false, nb, na).pem) }, "RegistrationCodeValidationException", 400},
		// DEFAULT mode needs a verification certificate.
		"no verification certificate": {func() error { return reg(ca.pem, "") }, "InvalidRequestException", 400},
		// A certificate without basicConstraints CA:TRUE is not a CA.
		"not a CA": {func() error { return reg(notCA.pem, issue(t, cn, ecKey(t), notCA, false, nb, na).pem) }, "CertificateValidationException", 400},
		// An expired CA.
		"expired CA": {func() error { return reg(expired.pem, issue(t, cn, ecKey(t), expired, false, nb, na).pem) }, "CertificateValidationException", 400},
		// Not PEM at all.
		"malformed PEM": {func() error { return reg("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "") }, "CertificateValidationException", 400},
		// SNI_ONLY takes no verification certificate.
		"SNI_ONLY with verification": {func() error {
			_, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem),
				VerificationCertificate: aws.String(issue(t, cn, ecKey(t), ca, false, nb, na).pem), CertificateMode: types.CertificateModeSniOnly})
			return err
		}, "InvalidRequestException", 400},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { apiErr(t, tc.err(), tc.code, tc.status) })
	}
	list, err := c.ListCACertificates(ctx, &iot.ListCACertificatesInput{})
	if err != nil || len(list.Certificates) != 0 {
		t.Fatalf("after refusals ListCACertificates = %+v, %v; want none", list.Certificates, err)
	}

	// Duplicate registration: the id and ARN come back.
	id := registerCA(t, c, ca, true, false)
	err = reg(ca.pem, issue(t, cn, ecKey(t), ca, false, nb, na).pem)
	apiErr(t, err, "ResourceAlreadyExistsException", 409)
	if !strings.Contains(err.Error(), id) {
		t.Fatalf("duplicate error %v does not name %s", err, id)
	}
	// SNI_ONLY without verification is accepted.
	sni := issue(t, "Sni", ecKey(t), nil, true, nb, na)
	if _, err := c.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{CaCertificate: aws.String(sni.pem), CertificateMode: types.CertificateModeSniOnly}); err != nil {
		t.Fatalf("SNI_ONLY: %v", err)
	}

	// RegisterCertificate with a certificate another CA signed.
	stranger := issue(t, "dev", ecKey(t), other, false, nb, na)
	_, err = c.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(stranger.pem), CaCertificatePem: aws.String(ca.pem)})
	apiErr(t, err, "CertificateValidationException", 400)
	_, err = c.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(stranger.pem)})
	apiErr(t, err, "CertificateValidationException", 400)
	certs, _ := c.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if len(certs.Certificates) != 0 {
		t.Fatalf("refused RegisterCertificate stored %+v", certs.Certificates)
	}
}

// TestCACertificate_Connect: a registered certificate of an ACTIVE CA
// connects; making the CA INACTIVE closes the live connection within a
// second and refuses the next connect.
func TestCACertificate_Connect(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	nb, na := valid()
	ca := issue(t, "Root", ecKey(t), nil, true, nb, na)
	caID := registerCA(t, c, ca, true, false)
	dev := issue(t, "dev", ecKey(t), ca, false, nb, na)
	rc, err := c.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(dev.pem), CaCertificatePem: aws.String(ca.pem), SetAsActive: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	attachPolicy(t, c, "all", allowAll, aws.ToString(rc.CertificateArn))
	lost := make(chan struct{}, 1)
	if _, err := connect311(t, srv, tlsCert(dev), "dev-1", func() { lost <- struct{}{} }); err != nil {
		t.Fatalf("connect with a registered certificate: %v", err)
	}
	start := time.Now()
	if _, err := c.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(caID), NewStatus: types.CACertificateStatusInactive}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
		if d := time.Since(start); d > time.Second {
			t.Fatalf("closed after %v, want within 1s", d)
		}
	case <-time.After(time.Second):
		t.Fatal("connection of an INACTIVE CA's certificate still open after 1s")
	}
	if _, err := connect311(t, srv, tlsCert(dev), "dev-1", nil); err == nil {
		t.Fatal("connect with a certificate of an INACTIVE CA succeeded")
	}
}

// TestCACertificate_JITR: a certificate of a CA with auto-registration
// (sent with its intermediate) is registered PENDING_ACTIVATION on its
// first connect, which is refused; the event reaches a subscriber; once
// ACTIVE with a policy it connects.
func TestCACertificate_JITR(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	nb, na := valid()
	root := issue(t, "Root", ecKey(t), nil, true, nb, na)
	inter := issue(t, "Intermediate", ecKey(t), root, true, nb, na)
	caID := registerCA(t, c, root, true, true)
	dev := issue(t, "dev", ecKey(t), inter, false, nb, na)
	devID := sha(dev.cert.Raw)

	watcher := srv.NewDevice(t, "", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/watcher"},
		{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/events/*"},
		{"Effect":"Allow","Action":"iot:Receive","Resource":"arn:aws:iot:us-east-1:000000000000:topic/$aws/events/*"}]}`)
	w, err := connect311(t, srv, watcher.TLS, "watcher", nil)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan mqtt.Message, 4)
	if tok := w.Subscribe("$aws/events/#", 1, func(_ mqtt.Client, m mqtt.Message) { events <- m }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	if _, err := connect311(t, srv, tlsCert(dev, inter), "dev-1", nil); err == nil {
		t.Fatal("first connect of an auto-registered certificate succeeded")
	}
	select {
	case m := <-events:
		if m.Topic() != "$aws/events/certificates/registered/"+caID {
			t.Fatalf("event topic %s", m.Topic())
		}
		var ev map[string]any
		if err := json.Unmarshal(m.Payload(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["certificateId"] != devID || ev["caCertificateId"] != caID || ev["certificateStatus"] != "PENDING_ACTIVATION" ||
			ev["awsAccountId"] != "000000000000" || ev["timestamp"] == nil || ev["certificateRegistrationTimestamp"] == nil {
			t.Fatalf("event = %s", m.Payload())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no registered event")
	}
	d, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(devID)})
	if err != nil || d.CertificateDescription.Status != types.CertificateStatusPendingActivation ||
		aws.ToString(d.CertificateDescription.CaCertificateId) != caID {
		t.Fatalf("DescribeCertificate = %+v, %v", d, err)
	}

	srv.SetCertificateStatus(t, devID, "ACTIVE")
	attachPolicy(t, c, "all", allowAll, "arn:aws:iot:us-east-1:000000000000:cert/"+devID)
	if _, err := connect311(t, srv, tlsCert(dev, inter), "dev-1", nil); err != nil {
		t.Fatalf("second connect after activation: %v", err)
	}

	// Without auto-registration an unknown certificate is only refused.
	if _, err := c.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(caID), NewAutoRegistrationStatus: types.AutoRegistrationStatusDisable}); err != nil {
		t.Fatal(err)
	}
	dev2 := issue(t, "dev2", ecKey(t), inter, false, nb, na)
	if _, err := connect311(t, srv, tlsCert(dev2, inter), "dev-2", nil); err == nil {
		t.Fatal("unknown certificate connected")
	}
	_, err = c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(sha(dev2.cert.Raw))})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

// sha is a certificate id: the hex SHA-256 of the DER.
func sha(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
