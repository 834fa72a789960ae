package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoad_Identity checks the identity settings: defaults, then each set
// by its flag, environment variable or config-file key.
func TestLoad_Identity(t *testing.T) {
	c, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{CredentialDuration: time.Hour, MaxIdentityPools: 1000, MaxIdentitiesPerPool: 1_000_000, MaxRoleAliases: 100}
	if !reflect.DeepEqual(c.Identity, want) {
		t.Fatalf("default Identity = %+v, want %+v", c.Identity, want)
	}
	file := writeFile(t, "identity:\n  oidc-providers: [\"https://a.example.com /etc/a.json app\"]\n  max-role-aliases: 7\n  credential-duration: 2h\n")
	c, err = Load([]string{"--config", file, "--cognito-max-identity-pools", "5", "--cognito-credential-duration", "30m"},
		envMap(map[string]string{"MOAT_IDENTITY_MAX_IDENTITIES_PER_POOL": "10",
			"MOAT_IDENTITY_OIDC_PROVIDERS": "https://b.example.com https://b.example.com/jwks,https://c.example.com/realm/ /c.json x y"}))
	if err != nil {
		t.Fatal(err)
	}
	want = Identity{
		OIDCProviders:      []string{"https://b.example.com https://b.example.com/jwks", "https://c.example.com/realm/ /c.json x y"},
		CredentialDuration: 30 * time.Minute, MaxIdentityPools: 5, MaxIdentitiesPerPool: 10, MaxRoleAliases: 7,
	}
	if !reflect.DeepEqual(c.Identity, want) {
		t.Fatalf("Identity = %+v, want %+v (the environment's list replaces the file's)", c.Identity, want)
	}
	c, err = Load([]string{"--oidc-provider", "https://d.example.com /d.json", "--oidc-provider", "https://e.example.com /e.json"}, envMap(nil))
	if err != nil || len(c.Identity.OIDCProviders) != 2 {
		t.Fatalf("repeated --oidc-provider: %+v, %v", c.Identity.OIDCProviders, err)
	}
}

// TestLoad_IdentityErrors checks out-of-range and malformed values are
// refused, named by their flag.
func TestLoad_IdentityErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--oidc-provider", "https://a.example.com"}, `--oidc-provider: want "ISSUER JWKS [CLIENT_ID ...]"`},
		{[]string{"--oidc-provider", "http://a.example.com /a.json"}, "--oidc-provider: issuer \"http://a.example.com\": want an https URL"},
		{[]string{"--oidc-provider", "https://a.example.com http://a.example.com/jwks"}, "--oidc-provider: JWKS \"http://a.example.com/jwks\": keys are fetched over https only"},
		{[]string{"--oidc-provider", "https://a.example.com /a.json bad!id"}, "--oidc-provider: client id \"bad!id\""},
		{[]string{"--oidc-provider", "https://a.example.com /a.json", "--oidc-provider", "https://a.example.com/ /b.json"}, "--oidc-provider: issuer https://a.example.com/ is given twice"},
		{[]string{"--cognito-credential-duration", "5m"}, "--cognito-credential-duration: must be between 15m0s and 12h0m0s"},
		{[]string{"--cognito-max-identity-pools", "0"}, "--cognito-max-identity-pools: must be between 1 and 100000"},
		{[]string{"--cognito-max-identities-per-pool", "-3"}, "--cognito-max-identities-per-pool: must be between 1 and 1000000000"},
		{[]string{"--max-role-aliases", "100001"}, "--max-role-aliases: must be between 1 and 100000"},
	}
	for _, tt := range tests {
		_, err := Load(tt.args, envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Load(%v) error = %v, want it to contain %q", tt.args, err, tt.wantErr)
		}
	}
}

// TestParseOIDCProvider checks the parts of an --oidc-provider value.
func TestParseOIDCProvider(t *testing.T) {
	p, err := ParseOIDCProvider("  https://id.example.com/realms/a   https://id.example.com/certs  app-1 web.client ")
	want := OIDCProvider{Issuer: "https://id.example.com/realms/a", JWKS: "https://id.example.com/certs", ClientIDs: []string{"app-1", "web.client"}}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("ParseOIDCProvider = %+v, %v; want %+v", p, err, want)
	}
	for _, bad := range []string{"", "https://x.example.com", "https://x.example.com?a=1 /j", "https://u@x.example.com /j", "ftp://x /j",
		"https://x.example.com https:// a", "https://x.example.com /j " + strings.Repeat("c", 129)} {
		if _, err := ParseOIDCProvider(bad); err == nil {
			t.Errorf("ParseOIDCProvider(%q) accepted it", bad)
		}
	}
}

// FuzzParseOIDCProvider checks that any value parses or is refused
// without a panic, and that a parsed one has an https issuer and a JWKS.
func FuzzParseOIDCProvider(f *testing.F) {
	f.Add("https://login.example.com https://login.example.com/jwks.json app-1")
	f.Add("https://login.example.com /etc/moat/jwks.json")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseOIDCProvider(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.Issuer, "https://") || p.JWKS == "" || strings.HasPrefix(p.JWKS, "http://") {
			t.Fatalf("ParseOIDCProvider(%q) = %+v", s, p)
		}
	})
}
