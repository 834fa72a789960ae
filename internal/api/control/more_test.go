package control_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

func csrPEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "lamp-2"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// TestCreateCertificateFromCsr checks a good CSR is signed and recorded and
// a weak one is refused with nothing recorded.
func TestCreateCertificateFromCsr(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	out, err := c.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(csrPEM(t, key)), SetAsActive: true})
	if err != nil {
		t.Fatalf("CreateCertificateFromCsr: %v", err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(out.CertificatePem)))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !key.PublicKey.Equal(cert.PublicKey) || cert.Subject.CommonName != "lamp-2" {
		t.Fatalf("issued certificate does not carry the CSR's key and subject: %v", err)
	}
	d, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: out.CertificateId})
	if err != nil || d.CertificateDescription.Status != types.CertificateStatusActive {
		t.Fatalf("DescribeCertificate = %v, %v", d, err)
	}

	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(csrPEM(t, weak))})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String("not a csr")})
	apiErr(t, err, "InvalidRequestException", 400)
	lc, err := c.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if err != nil || len(lc.Certificates) != 1 {
		t.Fatalf("refused CSRs recorded certificates: %+v, %v", lc, err)
	}
}

// TestPagination checks ListThings and ListCertificates page through every
// item exactly once.
func TestPagination(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(fmt.Sprintf("t%02d", i))}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	p := iot.NewListThingsPaginator(c, &iot.ListThingsInput{MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, th := range out.Things {
			if seen[aws.ToString(th.ThingName)] {
				t.Fatalf("thing %s listed twice", aws.ToString(th.ThingName))
			}
			seen[aws.ToString(th.ThingName)] = true
		}
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("ListThings pages = %d, things = %d; want 3 and 7", pages, len(seen))
	}
	for _, asc := range []bool{true, false} {
		certs := map[string]bool{}
		marker := ""
		var order []string
		for {
			in := &iot.ListCertificatesInput{PageSize: aws.Int32(2), AscendingOrder: asc}
			if marker != "" {
				in.Marker = aws.String(marker)
			}
			out, err := c.ListCertificates(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, ce := range out.Certificates {
				certs[aws.ToString(ce.CertificateId)] = true
				order = append(order, ce.CreationDate.String()+aws.ToString(ce.CertificateId))
			}
			marker = aws.ToString(out.NextMarker)
			if marker == "" {
				break
			}
		}
		if len(certs) != 7 || len(order) != 7 {
			t.Fatalf("ListCertificates ascending=%v listed %d distinct of %d", asc, len(certs), len(order))
		}
	}
}

// TestDeleteCertificate checks AWS's order: deactivate, detach from
// things, and forceDelete for attached policies.
func TestDeleteCertificate(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	arn := kc.CertificateArn
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t")}))
	must(c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}))
	must(c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: arn}))
	must(c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("t"), Principal: arn}))
	must(c.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: kc.CertificateId, NewStatus: types.CertificateStatusInactive}))

	// attached to a thing: refused even with forceDelete
	_, err = c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: kc.CertificateId, ForceDelete: true})
	apiErr(t, err, "DeleteConflictException", 409)
	must(c.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String("t"), Principal: arn}))
	// a policy attached: refused without forceDelete
	_, err = c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: kc.CertificateId})
	apiErr(t, err, "DeleteConflictException", 409)
	// forceDelete detaches the policy and deletes
	must(c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: kc.CertificateId, ForceDelete: true}))
	_, err = c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: kc.CertificateId})
	apiErr(t, err, "ResourceNotFoundException", 404)
	tg, err := c.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("p")})
	if err != nil || len(tg.Targets) != 0 {
		t.Fatalf("policy still attached after forceDelete: %v, %v", tg, err)
	}
}

// TestExclusiveThingPrincipal checks an exclusive attachment keeps the
// certificate to one thing.
func TestExclusiveThingPrincipal(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("a"), Principal: kc.CertificateArn, ThingPrincipalType: types.ThingPrincipalTypeExclusiveThing}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("b"), Principal: kc.CertificateArn})
	apiErr(t, err, "InvalidRequestException", 400)
	// an unknown thing
	_, err = c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("nope"), Principal: kc.CertificateArn})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

// TestDescribeEndpoint checks the data endpoint is the bare hostname when
// MQTT is on 8883, the HTTPS endpoints carry the bound HTTPS port, and
// unknown types are refused.
func TestDescribeEndpoint(t *testing.T) {
	srv := moattest.Start(t, func(c *config.Config) { c.MQTTAddr = "127.0.0.1:8883" })
	c := srv.IoT()
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(srv.HTTPSAddr)
	for typ, want := range map[string]string{"iot:Data-ATS": "localhost", "iot:Data": "localhost", "iot:CredentialProvider": "localhost:" + port, "iot:Jobs": "localhost:" + port} {
		out, err := c.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String(typ)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.EndpointAddress); got != want {
			t.Errorf("DescribeEndpoint(%s) = %q, want %q", typ, got, want)
		}
	}
	_, err := c.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Other")})
	apiErr(t, err, "InvalidRequestException", 400)
}
