package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

func openAuth(t testing.TB) (*auth.Authenticator, func() *auth.Authenticator) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moat.db")
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return auth.New(st, "us-east-1", "000000000000"), func() *auth.Authenticator { return auth.New(st, "us-east-1", "000000000000") }
}

// signed returns a request to the data plane signed with creds.
func signed(t *testing.T, c auth.Credentials, token string, at time.Time) *http.Request {
	t.Helper()
	body := []byte(`{"a":1}`)
	r := httptest.NewRequest(http.MethodPost, "https://localhost/topics/a?qos=1", bytes.NewReader(body))
	if token != "" {
		r.Header.Set("X-Amz-Security-Token", token)
	}
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: token},
		r, hex.EncodeToString(sum[:]), "iotdata", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemporaryCredentials(t *testing.T) {
	ctx := context.Background()
	a, another := openAuth(t)
	exp := time.Now().Add(time.Hour)
	creds, err := a.Mint(ctx, auth.Session{RoleName: "app", RoleARN: "arn:aws:iam::000000000000:role/app", SessionName: "s1",
		Source: auth.SourceCognito, IdentityID: "us-east-1:11111111-2222-3333-4444-555555555555", Authenticated: true, Expiration: exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.AccessKeyID) != 20 || len(creds.SecretAccessKey) != 40 || creds.SessionToken == "" {
		t.Fatalf("credentials %+v", creds)
	}
	body := []byte(`{"a":1}`)

	// Verified, by this authenticator and by another on the same store
	// (another node): the claims come back from the token.
	for i, au := range []*auth.Authenticator{a, another()} {
		p, err := au.SigV4(ctx, signed(t, creds, creds.SessionToken, time.Now()), body, "iotdata")
		if err != nil {
			t.Fatalf("authenticator %d: %v", i, err)
		}
		if p.Kind != auth.KindRole || p.Session == nil || p.Session.RoleName != "app" || p.Session.IdentityID != "us-east-1:11111111-2222-3333-4444-555555555555" ||
			!p.Session.Authenticated || p.AccessKeyID != creds.AccessKeyID || !p.Session.Expiration.Equal(exp.UTC().Truncate(time.Second)) {
			t.Fatalf("authenticator %d: principal %+v session %+v", i, p, p.Session)
		}
		if got := p.String(); got != "assumed-role/app/s1 (identity us-east-1:11111111-2222-3333-4444-555555555555)" {
			t.Fatalf("String() = %q", got)
		}
	}

	other, err := a.Mint(ctx, auth.Session{RoleName: "app", SessionName: "s2", Expiration: exp})
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(creds.SessionToken)
	tampered[len(tampered)/2] ^= 1
	for name, tc := range map[string]struct {
		creds auth.Credentials
		token string
		code  string
	}{
		"no token":                     {creds, "", "UnrecognizedClientException"},
		"another session's token":      {creds, other.SessionToken, "UnrecognizedClientException"},
		"tampered token":               {creds, string(tampered), "UnrecognizedClientException"},
		"garbage token":                {creds, "not-a-token", "UnrecognizedClientException"},
		"wrong secret":                 {auth.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: other.SecretAccessKey}, creds.SessionToken, "InvalidSignatureException"},
		"long-term style id, no token": {auth.Credentials{AccessKeyID: "AKIA" + creds.AccessKeyID[4:], SecretAccessKey: creds.SecretAccessKey}, "", "UnrecognizedClientException"},
	} {
		_, err := a.SigV4(ctx, signed(t, tc.creds, tc.token, time.Now()), body, "iotdata")
		var ae *awsapi.Error
		if !errors.As(err, &ae) || string(ae.Code) != tc.code {
			t.Errorf("%s: err %v, want %s", name, err, tc.code)
		}
	}

	// Expired: refused with ExpiredTokenException, even if the signature
	// is fresh.
	short, err := a.Mint(ctx, auth.Session{RoleName: "app", SessionName: "s3", IssuedAt: time.Now().Add(-2 * time.Hour), Expiration: time.Now().Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.SigV4(ctx, signed(t, short, short.SessionToken, time.Now()), body, "iotdata")
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != "ExpiredTokenException" || ae.HTTPStatus() != http.StatusForbidden {
		t.Fatalf("expired: %v", err)
	}
	if _, err := a.OpenSession(ctx, short.AccessKeyID, short.SessionToken); err == nil {
		t.Fatal("OpenSession accepted an expired session")
	}
}
