package cognito_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/store"
)

func codeOf(err error) string {
	var e *awsapi.Error
	if errors.As(err, &e) {
		return string(e.Code)
	}
	return ""
}

// TestCheckTarget checks identity ids as policy attachment targets.
func TestCheckTarget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pool := f.oidcPool(t)
	id, err := f.svc.GetID(ctx, pool.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target   string
		identity bool   // IsIdentityID
		code     string // CheckTarget's error code, "" for none
	}{
		{id, true, ""},
		{"us-east-1:00000000-0000-4000-8000-000000000000", true, "ResourceNotFoundException"},
		{"eu-west-1:" + strings.TrimPrefix(id, "us-east-1:"), true, "InvalidRequestException"},
		{"us-east-1:abc", true, "InvalidRequestException"},
		{"arn:aws:iot:us-east-1:000000000000:cert/abc", false, ""},
		{"arn:aws:iot:us-east-1:000000000000:thinggroup/g", false, ""},
		{"us-east-1:ABC", false, ""},
		{"", false, ""},
		{strings.Repeat("a", 51) + ":0123", false, ""}, // 56 characters
	}
	for _, tt := range tests {
		if got := cognito.IsIdentityID(tt.target); got != tt.identity {
			t.Errorf("IsIdentityID(%q) = %v, want %v", tt.target, got, tt.identity)
		}
		if !tt.identity {
			continue
		}
		err := f.st.View(ctx, func(tx store.Tx) error { return cognito.CheckTarget(tx, "us-east-1", tt.target) })
		if got := codeOf(err); got != tt.code || (err != nil) != (tt.code != "") {
			t.Errorf("CheckTarget(%q) = %v, want code %q", tt.target, err, tt.code)
		}
	}
}

// TestService_DeletePool checks that deleting a pool deletes its
// identities in batches, with their logins and IoT policy attachments,
// and reports each one.
func TestService_DeletePool(t *testing.T) {
	defer cognito.SetDeleteBatch(2)()
	f := newFixture(t)
	ctx := context.Background()
	pool := f.oidcPool(t)
	other := f.oidcPool(t)
	var ids []string
	for i := range 5 {
		id, err := f.svc.GetID(ctx, pool.ID, "", f.token(t, fmt.Sprint("user", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	keep, err := f.svc.GetID(ctx, other.ID, "", f.token(t, "user0"))
	if err != nil {
		t.Fatal(err)
	}
	err = f.st.Update(ctx, func(tx store.Tx) error {
		now := time.Now()
		if err := tx.InsertPolicy(store.Policy{Name: "p", DefaultVersionID: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertPolicyVersion(store.PolicyVersion{PolicyName: "p", VersionID: 1, Document: `{}`, CreatedAt: now}); err != nil {
			return err
		}
		for _, id := range append([]string{keep}, ids...) {
			if err := tx.AttachPolicy("p", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A delete interrupted after its first transaction: the pool is
	// marked deleting, gone for every operation, and the next DeletePool
	// finishes the job.
	err = f.st.Update(ctx, func(tx store.Tx) error {
		o, err := tx.Object(cognito.KindPool, pool.ID)
		if err != nil {
			return err
		}
		var p map[string]any
		if err := json.Unmarshal(o.Value, &p); err != nil {
			return err
		}
		p["deleting"] = true
		o.Value, _ = json.Marshal(p)
		return tx.UpdateObject(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DescribePool(ctx, pool.ID); codeOf(err) != "ResourceNotFoundException" {
		t.Fatalf("DescribePool of a pool being deleted = %v", err)
	}
	if _, err := f.svc.GetCredentials(ctx, ids[0], f.token(t, "user0"), ""); codeOf(err) != "ResourceNotFoundException" {
		t.Fatalf("GetCredentials of an identity of a pool being deleted = %v", err)
	}
	if ps, _, err := f.svc.ListPools(ctx, 60, ""); err != nil || len(ps) != 1 || ps[0].ID != other.ID {
		t.Fatalf("ListPools = %+v, %v; want only the other pool", ps, err)
	}
	var deleted []string
	f.svc.OnIdentityDeleted = func(id string) { deleted = append(deleted, id) }
	if err := f.svc.DeletePool(ctx, pool.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeletePool(ctx, pool.ID); codeOf(err) != "ResourceNotFoundException" {
		t.Fatalf("DeletePool again = %v", err)
	}
	slices.Sort(deleted)
	slices.Sort(ids)
	if !slices.Equal(deleted, ids) {
		t.Fatalf("OnIdentityDeleted got %v, want %v", deleted, ids)
	}
	err = f.st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Object(cognito.KindPool, pool.ID); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("pool object: %v", err)
		}
		for _, kind := range []string{cognito.KindIdentity, cognito.KindPoolIdentity, cognito.KindLogin} {
			objs, _, err := tx.ListObjects(kind, "", store.Page{Limit: 100})
			if err != nil {
				return err
			}
			for _, o := range objs {
				if strings.HasPrefix(o.Key, pool.ID) || slices.Contains(ids, o.Key) {
					return fmt.Errorf("%s %q is left", kind, o.Key)
				}
			}
		}
		targets, _, err := tx.PolicyTargets("p", store.Page{})
		if err != nil {
			return err
		}
		if !slices.Equal(targets, []string{keep}) {
			return fmt.Errorf("policy targets = %v, want only %s", targets, keep)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The other pool's identity, with the same subject, is untouched.
	if got, err := f.svc.GetID(ctx, other.ID, "", f.token(t, "user0")); err != nil || got != keep {
		t.Fatalf("other pool's identity = %s, %v; want %s", got, err, keep)
	}
	if p, err := f.svc.DescribePool(ctx, other.ID); err != nil || p.Identities != 1 {
		t.Fatalf("other pool = %+v, %v", p, err)
	}
}

// TestService_LoginConflicts checks that logins of two identities are
// not merged, and that an identity has one login per provider.
func TestService_LoginConflicts(t *testing.T) {
	// httptest's TLS servers share one certificate, so the fixture's
	// client trusts the second issuer's server too.
	secondIssuer := cognitotest.NewIssuer(t, "second.example.com")
	f := newFixture(t, func(o *cognito.Options) {
		o.OIDCProviders = append(o.OIDCProviders, secondIssuer.Provider("app"))
	})
	ctx := context.Background()
	pool, err := f.svc.CreatePool(ctx, "pool", cognito.PoolConfig{OpenIDConnectProviderARNs: []string{
		"arn:aws:iam::000000000000:oidc-provider/" + f.issuer.Name(), "arn:aws:iam::000000000000:oidc-provider/" + secondIssuer.Name(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := f.svc.GetID(ctx, pool.ID, "", f.token(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	second := func(sub string) string {
		return secondIssuer.Token(t, cognitotest.Claims{Subject: sub, Audience: []string{"app"}, Expiry: time.Now().Add(time.Hour)})
	}
	bob, err := f.svc.GetID(ctx, pool.ID, "", map[string]string{secondIssuer.Name(): second("bob")})
	if err != nil {
		t.Fatal(err)
	}
	// alice's and bob's logins together name two identities.
	logins := f.token(t, "alice")
	logins[secondIssuer.Name()] = second("bob")
	_, err = f.svc.GetID(ctx, pool.ID, "", logins)
	wantCode(t, err, "ResourceConflictException")
	// alice's identity links a login of the second provider...
	logins[secondIssuer.Name()] = second("carol")
	if got, err := f.svc.GetID(ctx, pool.ID, "", logins); err != nil || got != alice {
		t.Fatalf("linking carol = %s, %v; want %s", got, err, alice)
	}
	ident, err := f.svc.DescribeIdentity(ctx, alice)
	if err != nil || len(ident.Logins) != 2 {
		t.Fatalf("alice's identity = %+v, %v", ident, err)
	}
	// ...but not a second one of it.
	logins[secondIssuer.Name()] = second("dave")
	_, err = f.svc.GetID(ctx, pool.ID, "", logins)
	wantCode(t, err, "ResourceConflictException")
	// bob's login does not prove alice's identity.
	_, err = f.svc.GetCredentials(ctx, alice, map[string]string{secondIssuer.Name(): second("bob")}, "")
	wantCode(t, err, "NotAuthorizedException")
	if bob == alice {
		t.Fatal("bob and alice share an identity")
	}
}

// TestService_JWKSReload checks the key cache: a token signed with a
// rotated key reloads the JWKS; an unknown key id reloads it at most
// every 30 seconds; the keys are reloaded after 15 minutes anyway.
func TestService_JWKSReload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pool := f.oidcPool(t)
	if _, err := f.svc.GetID(ctx, pool.ID, "", f.token(t, "a")); err != nil {
		t.Fatal(err)
	}
	if n := f.issuer.Fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	f.issuer.Rotate(t)
	f.clock.Add(time.Minute)
	if _, err := f.svc.GetID(ctx, pool.ID, "", f.token(t, "b")); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if n := f.issuer.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// A key the issuer does not publish: one reload at most per 30s.
	stranger := map[string]string{f.issuer.Name(): cognitotest.Sign(t, mustRSA(t), "unknown-kid", cognitotest.Claims{
		Issuer: f.issuer.Issuer, Subject: "x", Audience: []string{"app"}, Expiry: f.clock.Now().Add(time.Hour)})}
	for range 3 {
		_, err := f.svc.GetID(ctx, pool.ID, "", stranger)
		wantCode(t, err, "NotAuthorizedException")
	}
	if n := f.issuer.Fetches.Load(); n != 2 {
		t.Fatalf("fetches after unknown kids within 30s = %d, want 2", n)
	}
	f.clock.Add(31 * time.Second)
	_, err := f.svc.GetID(ctx, pool.ID, "", stranger)
	wantCode(t, err, "NotAuthorizedException")
	if n := f.issuer.Fetches.Load(); n != 3 {
		t.Fatalf("fetches after 30s = %d, want 3", n)
	}
	f.clock.Add(16 * time.Minute)
	if _, err := f.svc.GetID(ctx, pool.ID, "", f.token(t, "b")); err != nil {
		t.Fatal(err)
	}
	if n := f.issuer.Fetches.Load(); n != 4 {
		t.Fatalf("fetches after 16 minutes = %d, want 4", n)
	}
}

// TestService_JWKSFile checks keys read from a file: missing at first
// (ExternalServiceException), then read; a file gone bad later leaves the
// keys in force.
func TestService_JWKSFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwks.json")
	var is *cognitotest.Issuer
	f := newFixture(t, func(o *cognito.Options) {
		is = cognitotest.NewIssuer(t, "file.example.com")
		o.OIDCProviders = []cognito.OIDCProvider{{Issuer: is.Issuer, JWKS: path, ClientIDs: []string{"app"}}}
	})
	ctx := context.Background()
	pool, err := f.svc.CreatePool(ctx, "p", cognito.PoolConfig{SupportedLoginProviders: map[string]string{is.Name(): "app"}})
	if err != nil {
		t.Fatal(err)
	}
	login := func() map[string]string {
		return map[string]string{is.Name(): is.Token(t, cognitotest.Claims{Subject: "s", Audience: []string{"app"}, Expiry: f.clock.Now().Add(time.Hour)})}
	}
	_, err = f.svc.GetID(ctx, pool.ID, "", login())
	wantCode(t, err, "ExternalServiceException")
	resp, err := is.Server.Client().Get(is.JWKSURL)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := jsonDecode(resp.Body, &set); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, path, set)
	f.clock.Add(time.Minute) // past the retry interval
	id, err := f.svc.GetID(ctx, pool.ID, "", login())
	if err != nil {
		t.Fatalf("with the file: %v", err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(20 * time.Minute)
	if got, err := f.svc.GetID(ctx, pool.ID, "", login()); err != nil || got != id {
		t.Fatalf("with a bad file the old keys stay: %s, %v", got, err)
	}
}

// TestOIDCProvider_Validate checks the form of configured providers.
func TestOIDCProvider_Validate(t *testing.T) {
	tests := []struct {
		p   cognito.OIDCProvider
		err string // "" for valid
	}{
		{cognito.OIDCProvider{Issuer: "https://id.example.com", JWKS: "https://id.example.com/jwks", ClientIDs: []string{"a", "b.c"}}, ""},
		{cognito.OIDCProvider{Issuer: "https://id.example.com/realms/x/", JWKS: "/etc/moat/jwks.json"}, ""},
		{cognito.OIDCProvider{Issuer: "http://id.example.com", JWKS: "/x"}, "https URL"},
		{cognito.OIDCProvider{Issuer: "https://id.example.com?a=b", JWKS: "/x"}, "https URL"},
		{cognito.OIDCProvider{Issuer: "id.example.com", JWKS: "/x"}, "https URL"},
		{cognito.OIDCProvider{Issuer: "https://id.example.com"}, "no JWKS"},
		{cognito.OIDCProvider{Issuer: "https://id.example.com", JWKS: "http://id.example.com/jwks"}, "https only"},
		{cognito.OIDCProvider{Issuer: "https://id.example.com", JWKS: "/x", ClientIDs: []string{"a b"}}, "client id"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.p, err, tt.err)
		}
	}
	if n := (cognito.OIDCProvider{Issuer: "https://id.example.com/realms/x/"}).Name(); n != "id.example.com/realms/x" {
		t.Errorf("Name = %q", n)
	}
}

// TestNew checks that bad options are refused.
func TestNew(t *testing.T) {
	good := cognito.OIDCProvider{Issuer: "https://a.example.com", JWKS: "/x"}
	for name, o := range map[string]cognito.Options{
		"no region":      {Account: "000000000000"},
		"negative limit": {Region: "us-east-1", Account: "000000000000", MaxPools: -1},
		"bad provider":   {Region: "us-east-1", Account: "000000000000", OIDCProviders: []cognito.OIDCProvider{{Issuer: "x"}}},
		"duplicate":      {Region: "us-east-1", Account: "000000000000", OIDCProviders: []cognito.OIDCProvider{good, good}},
	} {
		if _, err := cognito.New(nil, nil, nil, o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jsonDecode(r io.ReadCloser, v any) error {
	defer r.Close()
	return json.NewDecoder(r).Decode(v)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
