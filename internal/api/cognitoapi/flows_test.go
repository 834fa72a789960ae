package cognitoapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/policy"
)

// signedBy verifies, with the server's authenticator, a data-plane
// request signed with temporary credentials, and returns who it is.
func (h *harness) signedBy(t *testing.T, c *types.Credentials) (auth.Principal, error) {
	t.Helper()
	body := []byte(`{"on":true}`)
	r := httptest.NewRequest(http.MethodPost, "https://localhost/topics/lamp?qos=1", bytes.NewReader(body))
	r.Header.Set("X-Amz-Security-Token", aws.ToString(c.SessionToken))
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretKey), SessionToken: aws.ToString(c.SessionToken)},
		r, hex.EncodeToString(sum[:]), "iotdevicegateway", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return h.auth.SigV4(context.Background(), r, body, "iotdata", "iotdevicegateway")
}

// TestAPI_GuestFlow checks an unauthenticated identity end to end: GetId,
// GetCredentialsForIdentity with the guest role, and the credentials
// verifying as that role's session for that identity.
func TestAPI_GuestFlow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pool := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{AllowUnauthenticatedIdentities: true})
	_, guest := h.poolRoles(t, pool)

	id, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), AccountId: aws.String(account)})
	if err != nil {
		t.Fatal(err)
	}
	identity := aws.ToString(id.IdentityId)
	if !strings.HasPrefix(identity, region+":") || !cognito.IsIdentityID(identity) {
		t.Fatalf("IdentityId = %q", identity)
	}
	// Each guest GetId is a new identity.
	again, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	if err != nil || aws.ToString(again.IdentityId) == identity {
		t.Fatalf("second guest GetId = %v, %v; want a new identity", aws.ToString(again.IdentityId), err)
	}

	before := time.Now()
	out, err := h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if aws.ToString(out.IdentityId) != identity || !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SecretKey) == "" || aws.ToString(c.SessionToken) == "" {
		t.Fatalf("GetCredentialsForIdentity = %+v", out)
	}
	if exp := aws.ToTime(c.Expiration); exp.Before(before.Add(time.Hour-2*time.Second)) || exp.After(time.Now().Add(time.Hour+time.Second)) {
		t.Fatalf("Expiration = %v, want about an hour from now", exp)
	}
	p, err := h.signedBy(t, c)
	if err != nil {
		t.Fatalf("SigV4 with the credentials: %v", err)
	}
	s := p.Session
	if p.Kind != auth.KindRole || s.IdentityID != identity || s.IdentityPoolID != pool || s.Authenticated || s.RoleARN != guest ||
		s.RoleName != "app-guest" || s.SessionName != "CognitoIdentityCredentials" || s.Source != auth.SourceCognito {
		t.Fatalf("principal = %+v, session %+v", p, s)
	}

	// GetOpenIdToken works for a guest of a pool that allows guests.
	tok, err := h.anon.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(identity)})
	if err != nil || aws.ToString(tok.Token) == "" || aws.ToString(tok.IdentityId) != identity {
		t.Fatalf("GetOpenIdToken = %+v, %v", tok, err)
	}
	// A guest's token is no login: presenting it must not get the
	// authenticated role.
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity),
		Logins: map[string]string{cognito.DeveloperIssuerName: aws.ToString(tok.Token)}})
	apiErr(t, err, "NotAuthorizedException", "not of an authenticated identity")

	// Guests turned off: the guest identity gets nothing more.
	if _, err := h.admin.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String("app pool")}); err != nil {
		t.Fatal(err)
	}
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(aws.ToString(again.IdentityId))})
	apiErr(t, err, "NotAuthorizedException", "Unauthenticated access is not supported")
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	apiErr(t, err, "NotAuthorizedException", "Unauthenticated access is not supported")
	// Another account's id for the pool finds nothing.
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), AccountId: aws.String("111111111111")})
	apiErr(t, err, "ResourceNotFoundException", "")
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(region + ":00000000-0000-4000-8000-000000000000")})
	apiErr(t, err, "ResourceNotFoundException", "not found")
}

// TestAPI_RoleChecks checks that credentials need a pool role that exists
// and trusts the pool, and CustomRoleArn naming it.
func TestAPI_RoleChecks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pool := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{AllowUnauthenticatedIdentities: true})
	id, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(custom string) error {
		in := &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId}
		if custom != "" {
			in.CustomRoleArn = aws.String(custom)
		}
		_, err := h.anon.GetCredentialsForIdentity(ctx, in)
		return err
	}
	// No role yet.
	apiErr(t, get(""), "InvalidIdentityPoolConfigurationException", "Check assigned IAM roles")
	_, guest := h.poolRoles(t, pool)
	if err := get(""); err != nil {
		t.Fatal(err)
	}
	if err := get(guest); err != nil {
		t.Fatalf("CustomRoleArn of the pool's role: %v", err)
	}
	apiErr(t, get("arn:aws:iam::000000000000:role/other"), "InvalidParameterException", "CustomRoleArn")
	// A trust policy for another pool (or only authenticated) refuses.
	h.roles.Put(cognito.Role{Name: "app-guest", ARN: guest, Trusts: func(string, string, *policy.Vars) bool { return false }})
	apiErr(t, get(""), "InvalidIdentityPoolConfigurationException", "")
	// A role deleted since.
	h.roles.Delete(guest)
	apiErr(t, get(""), "InvalidIdentityPoolConfigurationException", "")
}
