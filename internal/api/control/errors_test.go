package control_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestErrors_Typed checks that each documented error reaches the SDK as its
// typed exception with AWS's HTTP status, and that the failed call changed
// nothing.
func TestErrors_Typed(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	certARN := aws.ToString(kc.CertificateArn)
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}

	t.Run("ResourceNotFound", func(t *testing.T) {
		// a thing that does not exist
		_, err := c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("nope")})
		var e *types.ResourceNotFoundException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *types.ResourceNotFoundException", err)
		}
		apiErr(t, err, "ResourceNotFoundException", 404)
		// a policy that does not exist
		_, err = c.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("nope")})
		apiErr(t, err, "ResourceNotFoundException", 404)
		// a certificate that does not exist
		_, err = c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(strings.Repeat("0", 64))})
		apiErr(t, err, "ResourceNotFoundException", 404)
	})
	t.Run("ResourceAlreadyExists", func(t *testing.T) {
		// a second policy of the same name
		_, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)})
		var e *types.ResourceAlreadyExistsException
		if !errors.As(err, &e) || aws.ToString(e.ResourceArn) != "arn:aws:iot:us-east-1:000000000000:policy/p" {
			t.Fatalf("err = %v, want *types.ResourceAlreadyExistsException with the ARN", err)
		}
		apiErr(t, err, "ResourceAlreadyExistsException", 409)
		// the same thing with other attributes; identical input is idempotent
		_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "b"}}})
		apiErr(t, err, "ResourceAlreadyExistsException", 409)
		if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1")}); err != nil {
			t.Fatalf("identical CreateThing: %v", err)
		}
	})
	t.Run("InvalidRequest", func(t *testing.T) {
		// an invalid thing name
		_, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("bad name!")})
		var e *types.InvalidRequestException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *types.InvalidRequestException", err)
		}
		apiErr(t, err, "InvalidRequestException", 400)
		// an unknown enum value
		_, err = c.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: kc.CertificateId, NewStatus: "BROKEN"})
		apiErr(t, err, "InvalidRequestException", 400)
		// too many attributes for an untyped thing
		_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t4"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}}})
		apiErr(t, err, "InvalidRequestException", 400)
		// attaching a principal that is not a certificate ARN
		_, err = c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("t1"), Principal: aws.String("not-an-arn")})
		apiErr(t, err, "InvalidRequestException", 400)
	})
	t.Run("MalformedPolicy", func(t *testing.T) {
		// a statement with a bad Effect names the statement and field
		_, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("bad"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:Connect","Resource":"*"}]}`)})
		var e *types.MalformedPolicyException
		if !errors.As(err, &e) || !strings.Contains(aws.ToString(e.Message), "Effect") {
			t.Fatalf("err = %v, want *types.MalformedPolicyException naming Effect", err)
		}
		apiErr(t, err, "MalformedPolicyException", 400)
		_, err = c.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("bad")})
		apiErr(t, err, "ResourceNotFoundException", 404)
	})
	t.Run("DeleteConflict", func(t *testing.T) {
		// a policy attached to a certificate cannot be deleted
		if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certARN)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("p")})
		var e *types.DeleteConflictException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *types.DeleteConflictException", err)
		}
		apiErr(t, err, "DeleteConflictException", 409)
		if _, err := c.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("p")}); err != nil {
			t.Fatalf("policy gone after a refused delete: %v", err)
		}
	})
	t.Run("CertificateState", func(t *testing.T) {
		// an ACTIVE certificate cannot be deleted
		_, err := c.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: kc.CertificateId})
		var e *types.CertificateStateException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *types.CertificateStateException", err)
		}
		apiErr(t, err, "CertificateStateException", 406)
		// REVOKED is final
		if _, err := c.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: kc.CertificateId, NewStatus: types.CertificateStatusRevoked}); err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: kc.CertificateId, NewStatus: types.CertificateStatusActive})
		apiErr(t, err, "CertificateStateException", 406)
		d, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: kc.CertificateId})
		if err != nil || d.CertificateDescription.Status != types.CertificateStatusRevoked {
			t.Fatalf("status after refused update = %v, %v", d, err)
		}
	})
	t.Run("VersionsLimitExceeded", func(t *testing.T) {
		// a policy has at most five versions
		for i := 0; i < 4; i++ {
			if _, err := c.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := c.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)})
		var e *types.VersionsLimitExceededException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *types.VersionsLimitExceededException", err)
		}
		lv, err := c.ListPolicyVersions(ctx, &iot.ListPolicyVersionsInput{PolicyName: aws.String("p")})
		if err != nil || len(lv.PolicyVersions) != 5 {
			t.Fatalf("ListPolicyVersions = %v, %v", lv, err)
		}
	})
}

// TestAuth_Refused checks that requests with bad credentials are refused
// with AWS's authentication errors and change nothing.
func TestAuth_Refused(t *testing.T) {
	srv := moattest.Start(t)
	ctx := context.Background()
	withCreds := func(id, secret string) *iot.Client {
		return srv.IoT(func(o *iot.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "") })
	}
	tests := []struct {
		name   string
		client *iot.Client
		code   string
	}{
		// the admin key id with a wrong secret
		{"wrong secret", withCreds(srv.AccessKey, strings.Repeat("x", 40)), "InvalidSignatureException"},
		// a key id the server never issued
		{"unknown key", withCreds("AKIAAAAAAAAAAAAAAAAA", srv.Secret), "UnrecognizedClientException"},
		// a request signed 20 minutes ago
		{"expired", srv.IoT(func(o *iot.Options) { o.HTTPSignerV4 = clockSigner{-20 * time.Minute} }), "InvalidSignatureException"},
		// a request signed 20 minutes in the future
		{"future", srv.IoT(func(o *iot.Options) { o.HTTPSignerV4 = clockSigner{20 * time.Minute} }), "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("x-" + strings.ReplaceAll(tt.name, " ", "-"))})
			apiErr(t, err, tt.code, 403)
		})
	}
	lt, err := srv.IoT().ListThings(ctx, &iot.ListThingsInput{})
	if err != nil || len(lt.Things) != 0 {
		t.Fatalf("refused requests created things: %+v, %v", lt, err)
	}
}

// clockSigner signs with a skewed clock.
type clockSigner struct{ skew time.Duration }

func (s clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, at.Add(s.skew), opts...)
}
