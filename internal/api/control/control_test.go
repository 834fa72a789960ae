package control_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// seedPolicy is the device policy of the README, verbatim.
const seedPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:000000000000:topicfilter/${iot:ClientId}/*"}
  ]
}`

// apiErr asserts err is an AWS API error with code and HTTP status.
var apiErr = moattest.WantAPIError

// TestDeviceFlow walks the seed's management flow with the real SDK: keys
// and a certificate, a policy, a thing, and the attachments; then reads
// everything back.
func TestDeviceFlow(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()

	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatalf("CreateKeysAndCertificate: %v", err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(kc.CertificatePem)))
	if block == nil {
		t.Fatal("certificatePem does not decode")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	sum := sha256.Sum256(block.Bytes)
	if id := aws.ToString(kc.CertificateId); id != hex.EncodeToString(sum[:]) {
		t.Fatalf("certificateId %s is not the SHA-256 of the DER", id)
	}
	certARN := "arn:aws:iot:us-east-1:000000000000:cert/" + aws.ToString(kc.CertificateId)
	if aws.ToString(kc.CertificateArn) != certARN {
		t.Fatalf("certificateArn = %s, want %s", aws.ToString(kc.CertificateArn), certARN)
	}
	keyMatchesCert(t, aws.ToString(kc.KeyPair.PrivateKey), cert)
	if !strings.Contains(aws.ToString(kc.KeyPair.PublicKey), "PUBLIC KEY") {
		t.Fatalf("public key is not PEM: %q", aws.ToString(kc.KeyPair.PublicKey))
	}

	pol, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("lamp-policy"), PolicyDocument: aws.String(seedPolicy)})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	if aws.ToString(pol.PolicyVersionId) != "1" || aws.ToString(pol.PolicyArn) != "arn:aws:iot:us-east-1:000000000000:policy/lamp-policy" {
		t.Fatalf("CreatePolicy output = %+v", pol)
	}
	th, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("lamp-1"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"room": "kitchen"}}})
	if err != nil {
		t.Fatalf("CreateThing: %v", err)
	}
	if aws.ToString(th.ThingArn) != "arn:aws:iot:us-east-1:000000000000:thing/lamp-1" || aws.ToString(th.ThingId) == "" {
		t.Fatalf("CreateThing output = %+v", th)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("lamp-policy"), Target: aws.String(certARN)}); err != nil {
		t.Fatalf("AttachPolicy: %v", err)
	}
	if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("lamp-1"), Principal: aws.String(certARN)}); err != nil {
		t.Fatalf("AttachThingPrincipal: %v", err)
	}

	dt, err := c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-1")})
	if err != nil {
		t.Fatalf("DescribeThing: %v", err)
	}
	if aws.ToString(dt.ThingId) != aws.ToString(th.ThingId) || dt.Attributes["room"] != "kitchen" || dt.Version != 1 || aws.ToString(dt.DefaultClientId) != "lamp-1" {
		t.Fatalf("DescribeThing = %+v", dt)
	}
	lt, err := c.ListThings(ctx, &iot.ListThingsInput{AttributeName: aws.String("room"), AttributeValue: aws.String("kitchen")})
	if err != nil || len(lt.Things) != 1 || aws.ToString(lt.Things[0].ThingName) != "lamp-1" {
		t.Fatalf("ListThings by attribute = %+v, %v", lt, err)
	}
	tp, err := c.ListThingPrincipals(ctx, &iot.ListThingPrincipalsInput{ThingName: aws.String("lamp-1")})
	if err != nil || len(tp.Principals) != 1 || tp.Principals[0] != certARN {
		t.Fatalf("ListThingPrincipals = %+v, %v", tp, err)
	}
	pt, err := c.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(certARN)})
	if err != nil || len(pt.Things) != 1 || pt.Things[0] != "lamp-1" {
		t.Fatalf("ListPrincipalThings = %+v, %v", pt, err)
	}
	dc, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: kc.CertificateId})
	if err != nil {
		t.Fatalf("DescribeCertificate: %v", err)
	}
	d := dc.CertificateDescription
	if d.Status != types.CertificateStatusActive || aws.ToString(d.CertificatePem) != aws.ToString(kc.CertificatePem) ||
		d.Validity == nil || !d.Validity.NotAfter.Equal(cert.NotAfter) || d.CreationDate == nil || aws.ToString(d.OwnedBy) != "000000000000" {
		t.Fatalf("DescribeCertificate = %+v", d)
	}
	lc, err := c.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if err != nil || len(lc.Certificates) != 1 || aws.ToString(lc.Certificates[0].CertificateId) != aws.ToString(kc.CertificateId) {
		t.Fatalf("ListCertificates = %+v, %v", lc, err)
	}
	gp, err := c.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("lamp-policy")})
	if err != nil || aws.ToString(gp.PolicyDocument) != seedPolicy || aws.ToString(gp.DefaultVersionId) != "1" {
		t.Fatalf("GetPolicy = %+v, %v", gp, err)
	}
	lp, err := c.ListPolicies(ctx, &iot.ListPoliciesInput{})
	if err != nil || len(lp.Policies) != 1 || aws.ToString(lp.Policies[0].PolicyName) != "lamp-policy" {
		t.Fatalf("ListPolicies = %+v, %v", lp, err)
	}
	ap, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(certARN)})
	if err != nil || len(ap.Policies) != 1 || aws.ToString(ap.Policies[0].PolicyName) != "lamp-policy" {
		t.Fatalf("ListAttachedPolicies = %+v, %v", ap, err)
	}
	tg, err := c.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("lamp-policy")})
	if err != nil || len(tg.Targets) != 1 || tg.Targets[0] != certARN {
		t.Fatalf("ListTargetsForPolicy = %+v, %v", tg, err)
	}

	// Tear down in the order AWS requires, each step checked.
	if _, err := c.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String("lamp-1"), Principal: aws.String(certARN)}); err != nil {
		t.Fatalf("DetachThingPrincipal: %v", err)
	}
	if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("lamp-policy"), Target: aws.String(certARN)}); err != nil {
		t.Fatalf("DetachPolicy: %v", err)
	}
	if _, err := c.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("lamp-policy")}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	if _, err := c.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String("lamp-1")}); err != nil {
		t.Fatalf("DeleteThing: %v", err)
	}
	_, err = c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-1")})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

func keyMatchesCert(t *testing.T, keyPEM string, cert *x509.Certificate) {
	t.Helper()
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		t.Fatal("private key does not decode")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		t.Fatalf("private key: %v", err)
	}
	pub := key.(crypto.Signer).Public()
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
		t.Fatal("private key does not match the certificate")
	}
}
