package cognitoapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
)

// TestAPI_DeveloperFlow checks developer-authenticated identities: the
// back end's signed GetOpenIdTokenForDeveloperIdentity, then the app's
// unsigned GetId and GetCredentialsForIdentity with the token as its
// login.
func TestAPI_DeveloperFlow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pool := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{DeveloperProviderName: aws.String("login.example")})
	authRole, _ := h.poolRoles(t, pool)

	dev, err := h.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "user-42"}, TokenDuration: aws.Int64(600),
	})
	if err != nil {
		t.Fatal(err)
	}
	identity, token := aws.ToString(dev.IdentityId), aws.ToString(dev.Token)
	logins := map[string]string{cognito.DeveloperIssuerName: token}

	// The same user is the same identity.
	again, err := h.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "user-42"},
	})
	if err != nil || aws.ToString(again.IdentityId) != identity {
		t.Fatalf("second token for the same user: %v, %v; want %s", aws.ToString(again.IdentityId), err, identity)
	}
	got, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
	if err != nil || aws.ToString(got.IdentityId) != identity {
		t.Fatalf("GetId with the token = %v, %v; want %s", aws.ToString(got.IdentityId), err, identity)
	}
	out, err := h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity), Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.signedBy(t, out.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != auth.KindRole || !p.Session.Authenticated || p.Session.RoleARN != authRole || p.Session.IdentityID != identity {
		t.Fatalf("session = %+v", p.Session)
	}
	d, err := h.admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(identity)})
	if err != nil || len(d.Logins) != 1 || d.Logins[0] != "login.example" {
		t.Fatalf("DescribeIdentity = %+v, %v", d, err)
	}

	// GetOpenIdToken with the login gives a token that is a login too.
	oid, err := h.anon.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(identity), Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity),
		Logins: map[string]string{cognito.DeveloperIssuerName: aws.ToString(oid.Token)}}); err != nil {
		t.Fatalf("GetCredentialsForIdentity with GetOpenIdToken's token: %v", err)
	}
	_, err = h.anon.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(identity)})
	apiErr(t, err, "NotAuthorizedException", "Logins don't match")
	// An authenticated identity needs its login every time.
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity)})
	apiErr(t, err, "NotAuthorizedException", "Logins don't match")
	// Another user's token does not prove this identity.
	other, err := h.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "user-43"},
	})
	if err != nil || aws.ToString(other.IdentityId) == identity {
		t.Fatalf("token of another user: %v, %v", aws.ToString(other.IdentityId), err)
	}
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity),
		Logins: map[string]string{cognito.DeveloperIssuerName: aws.ToString(other.Token)}})
	apiErr(t, err, "NotAuthorizedException", "Logins don't match")
	// Linking user-42 to user-43's identity is refused.
	_, err = h.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), IdentityId: other.IdentityId, Logins: map[string]string{"login.example": "user-42"},
	})
	apiErr(t, err, "DeveloperUserAlreadyRegisteredException", identity)
	// A tampered token does not verify.
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{cognito.DeveloperIssuerName: token[:len(token)-4] + "AAAA"}})
	apiErr(t, err, "NotAuthorizedException", "Invalid login token")
	// The developer provider's raw user id is no login.
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "user-42"}})
	apiErr(t, err, "NotAuthorizedException", "not a login provider")

	// The token of one pool is no login in another (the identity of
	// another pool).
	pool2 := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{DeveloperProviderName: aws.String("login.example"), AllowUnauthenticatedIdentities: true})
	h.poolRoles(t, pool2)
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool2), Logins: logins})
	apiErr(t, err, "NotAuthorizedException", "Incorrect token audience")
	guest2, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool2)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: guest2.IdentityId, Logins: logins})
	apiErr(t, err, "NotAuthorizedException", "Incorrect token audience")
	// Naming pool1's identity in pool2 is forbidden.
	_, err = h.admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool2), IdentityId: aws.String(identity), Logins: map[string]string{"login.example": "user-99"},
	})
	apiErr(t, err, "NotAuthorizedException", "Access to Identity")

	// Bad requests.
	tests := map[string]struct {
		in   cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput
		code string
	}{
		"no developer login":   {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"other": "x"}}, "InvalidParameterException"},
		"token too long":       {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "u"}, TokenDuration: aws.Int64(86401)}, "InvalidParameterException"},
		"principal tags":       {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "u"}, PrincipalTags: map[string]string{"a": "b"}}, "InvalidParameterException"},
		"pool without dev":     {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(h.pool(t, &cognitoidentity.CreateIdentityPoolInput{})), Logins: map[string]string{"login.example": "u"}}, "InvalidParameterException"},
		"control in user id":   {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "a\x00b"}}, "InvalidParameterException"},
		"unknown identity":     {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), IdentityId: aws.String(region + ":00000000-0000-4000-8000-000000000000"), Logins: map[string]string{"login.example": "u"}}, "ResourceNotFoundException"},
		"signed by no one":     {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": "u"}}, "MissingAuthenticationTokenException"},
		"eleven logins":        {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: elevenLogins()}, "InvalidParameterException"},
		"unknown pool":         {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(region + ":00000000-0000-4000-8000-000000000000"), Logins: map[string]string{"login.example": "u"}}, "ResourceNotFoundException"},
		"another account's id": {cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String("bad"), Logins: map[string]string{"login.example": "u"}}, "InvalidParameterException"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := h.admin
			if tt.code == "MissingAuthenticationTokenException" {
				c = h.anon
			}
			_, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &tt.in)
			apiErr(t, err, tt.code, "")
		})
	}
}

func elevenLogins() map[string]string {
	m := map[string]string{"login.example": "u"}
	for i := range 10 {
		m[string(rune('a'+i))+".example"] = "t"
	}
	return m
}

// TestAPI_OIDC checks logins of an operator-configured OpenID Connect
// issuer: a valid token maps to one identity for good; a token with the
// wrong audience, expired, not yet valid, badly signed, of another issuer
// or of a provider the pool does not trust is refused with
// NotAuthorizedException and changes nothing.
func TestAPI_OIDC(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	is := h.issuer
	// One pool trusts the issuer through its ARN (audience: the operator's
	// client id), one through SupportedLoginProviders (its own client id),
	// one not at all.
	byARN := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{OpenIdConnectProviderARNs: []string{"arn:aws:iam::000000000000:oidc-provider/" + is.Name()}})
	bySLP := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{SupportedLoginProviders: map[string]string{is.Name(): "web-client"}})
	none := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{AllowUnauthenticatedIdentities: true})
	authRole, _ := h.poolRoles(t, byARN)
	now := time.Now()
	valid := is.Token(t, cognitotest.Claims{Subject: "alice", Audience: []string{"app-client"}, Expiry: now.Add(time.Hour)})
	login := func(tok string) map[string]string { return map[string]string{is.Name(): tok} }

	id, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(byARN), Logins: login(valid)})
	if err != nil {
		t.Fatal(err)
	}
	identity := aws.ToString(id.IdentityId)
	// A new token of the same subject finds the same identity.
	fresh := is.Token(t, cognitotest.Claims{Subject: "alice", Audience: []string{"other", "app-client"}, Expiry: now.Add(2 * time.Hour)})
	if again, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(byARN), Logins: login(fresh)}); err != nil || aws.ToString(again.IdentityId) != identity {
		t.Fatalf("GetId again = %v, %v; want %s", aws.ToString(again.IdentityId), err, identity)
	}
	out, err := h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity), Logins: login(fresh)})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := h.signedBy(t, out.Credentials); err != nil || p.Session.RoleARN != authRole || !p.Session.Authenticated {
		t.Fatalf("credentials of the OIDC identity: %+v, %v", p.Session, err)
	}
	// The same subject in the other pool is another identity.
	other, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(bySLP),
		Logins: login(is.Token(t, cognitotest.Claims{Subject: "alice", Audience: []string{"web-client"}, Expiry: now.Add(time.Hour)}))})
	if err != nil || aws.ToString(other.IdentityId) == identity {
		t.Fatalf("GetId in the second pool = %v, %v", aws.ToString(other.IdentityId), err)
	}

	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]struct {
		pool, token, msg string
	}{
		// aud is the second pool's client, not the operator's
		"wrong audience": {byARN, is.Token(t, cognitotest.Claims{Subject: "bob", Audience: []string{"web-client"}, Expiry: now.Add(time.Hour)}), "Incorrect token audience"},
		// expired beyond the minute of leeway
		"expired": {byARN, is.Token(t, cognitotest.Claims{Subject: "bob", Audience: []string{"app-client"}, Expiry: now.Add(-2 * time.Minute)}), "Token expired"},
		// no exp at all
		"no expiry": {byARN, is.Token(t, cognitotest.Claims{Subject: "bob", Audience: []string{"app-client"}}), "exp"},
		// not valid for another hour
		"not yet valid": {byARN, is.Token(t, cognitotest.Claims{Subject: "bob", Audience: []string{"app-client"}, Expiry: now.Add(2 * time.Hour), NotBefore: now.Add(time.Hour)}), "not valid yet"},
		// signed by a key the issuer does not publish, under its key id
		"bad signature": {byARN, cognitotest.Sign(t, stranger, "", cognitotest.Claims{Issuer: is.Issuer, Subject: "bob", Audience: []string{"app-client"}, Expiry: now.Add(time.Hour)}), "Couldn't verify"},
		// iss names another issuer
		"unknown issuer": {byARN, is.Token(t, cognitotest.Claims{Issuer: "https://evil.example.com", Subject: "bob", Audience: []string{"app-client"}, Expiry: now.Add(time.Hour)}), "Issuer doesn't match"},
		// the pool does not trust the provider
		"untrusted provider": {none, valid, "not a login provider"},
		// not a JWT
		"garbage": {byARN, "not.a.token", "Not a valid OpenId Connect"},
		// no subject
		"no subject": {byARN, is.Token(t, cognitotest.Claims{Audience: []string{"app-client"}, Expiry: now.Add(time.Hour)}), "sub"},
	}
	for name, tt := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(tt.pool), Logins: login(tt.token)})
			apiErr(t, err, "NotAuthorizedException", tt.msg)
			if tt.pool == byARN {
				_, err = h.anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identity), Logins: login(tt.token)})
				apiErr(t, err, "NotAuthorizedException", tt.msg)
			}
		})
	}
	// An unknown provider name is refused too.
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(byARN), Logins: map[string]string{"accounts.example.org": valid}})
	apiErr(t, err, "NotAuthorizedException", "not a login provider")
	// Nothing was made by the refused logins: the pools hold the two
	// identities only.
	for _, p := range []string{byARN, bySLP} {
		list, err := h.admin.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(p), MaxResults: aws.Int32(60)})
		if err != nil || len(list.Identities) != 1 {
			t.Fatalf("identities of %s = %+v, %v", p, list, err)
		}
	}
	// The JWKS was fetched once, then cached.
	if n := is.Fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}
