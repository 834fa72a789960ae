// Package cognitotest has test helpers for the identity service: an
// OpenID Connect issuer whose JWKS is served by an httptest TLS server,
// and a fake of the IAM roles (cognito.Roles).
package cognitotest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/policy"
)

// Issuer is an OpenID Connect issuer for tests. Its JWKS is served over
// TLS at JWKSURL (trust Server.Client()); tokens claim the issuer URL
// Issuer, which is not served.
type Issuer struct {
	Issuer  string
	JWKSURL string
	Server  *httptest.Server
	// Fetches counts the JWKS requests served.
	Fetches atomic.Int64

	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

// NewIssuer starts an issuer named https://NAME (e.g. "issuer.example.com").
func NewIssuer(t testing.TB, name string) *Issuer {
	t.Helper()
	is := &Issuer{Issuer: "https://" + name}
	is.Rotate(t)
	is.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.Fetches.Add(1)
		is.mu.Lock()
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &is.key.PublicKey, KeyID: is.kid, Algorithm: string(jose.RS256), Use: "sig"}}}
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(is.Server.Close)
	is.JWKSURL = is.Server.URL + "/jwks.json"
	return is
}

// Rotate gives the issuer a new signing key with a new key id.
func (is *Issuer) Rotate(t testing.TB) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.key, is.kid = k, fmt.Sprintf("k%d", time.Now().UnixNano())
}

// Name is the provider name (the Logins key).
func (is *Issuer) Name() string { return strings.TrimPrefix(is.Issuer, "https://") }

// Provider is the issuer as the service is configured with it.
func (is *Issuer) Provider(clientIDs ...string) cognito.OIDCProvider {
	return cognito.OIDCProvider{Issuer: is.Issuer, JWKS: is.JWKSURL, ClientIDs: clientIDs}
}

// Claims are a test token's claims; zero times are left out.
type Claims struct {
	Issuer            string // "" means the issuer's own
	Subject           string
	Audience          []string
	Expiry, NotBefore time.Time
}

// Token signs claims with the issuer's current key.
func (is *Issuer) Token(t testing.TB, c Claims) string {
	t.Helper()
	is.mu.Lock()
	key, kid := is.key, is.kid
	is.mu.Unlock()
	if c.Issuer == "" {
		c.Issuer = is.Issuer
	}
	return Sign(t, key, kid, c)
}

// Sign makes an RS256 token with any RSA key.
func Sign(t testing.TB, key *rsa.PrivateKey, kid string, c Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	std := jwt.Claims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, IssuedAt: jwt.NewNumericDate(time.Now().Add(-time.Minute))}
	if !c.Expiry.IsZero() {
		std.Expiry = jwt.NewNumericDate(c.Expiry)
	}
	if !c.NotBefore.IsZero() {
		std.NotBefore = jwt.NewNumericDate(c.NotBefore)
	}
	tok, err := jwt.Signed(signer).Claims(std).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Roles is a fake cognito.Roles: roles by ARN.
type Roles struct {
	mu sync.Mutex
	m  map[string]cognito.Role
}

// Put adds or replaces a role.
func (r *Roles) Put(role cognito.Role) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]cognito.Role{}
	}
	r.m[role.ARN] = role
}

// Delete removes a role.
func (r *Roles) Delete(arn string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, arn)
}

// RoleByARN implements cognito.Roles.
func (r *Roles) RoleByARN(_ context.Context, arn string) (cognito.Role, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	role, ok := r.m[arn]
	if !ok {
		return cognito.Role{}, fmt.Errorf("role %s: %w", arn, cognito.ErrNoSuchRole)
	}
	return role, nil
}

// Role makes a role of account 000000000000 named name, with a trust
// check and a 12-hour maximum session.
func Role(name string, trusts func(principalType, principal string, vars *policy.Vars) bool) cognito.Role {
	return cognito.Role{Name: name, ARN: "arn:aws:iam::000000000000:role/" + name, MaxSessionDuration: 12 * time.Hour, Trusts: trusts}
}

// TrustCognito is the usual trust policy of a pool role: the principal
// {"Federated": "cognito-identity.amazonaws.com"} with
// StringEquals cognito-identity.amazonaws.com:aud = poolID and
// ForAnyValue:StringLike cognito-identity.amazonaws.com:amr = amr.
func TrustCognito(poolID, amr string) func(string, string, *policy.Vars) bool {
	return func(typ, principal string, vars *policy.Vars) bool {
		return typ == "Federated" && principal == cognito.FederatedPrincipal &&
			slices.Equal(Values(vars, cognito.KeyAud), []string{poolID}) && slices.Contains(Values(vars, cognito.KeyAMR), amr)
	}
}

// TrustService trusts one service principal, e.g.
// credentials.iot.amazonaws.com.
func TrustService(service string) func(string, string, *policy.Vars) bool {
	return func(typ, principal string, _ *policy.Vars) bool { return typ == "Service" && principal == service }
}

// Values reads a condition key's values from vars.
func Values(vars *policy.Vars, key string) []string {
	if vars == nil {
		return nil
	}
	return vars.Extra[strings.ToLower(key)]
}
