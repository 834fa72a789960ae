package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Allowed ranges of the identity settings (inclusive).
const (
	minCredentialDuration   = 15 * time.Minute
	maxCredentialDuration   = 12 * time.Hour
	maxIdentityPools        = 100_000
	maxIdentitiesPerPool    = 1_000_000_000
	maxRoleAliases          = 100_000
	maxOIDCProviderClientID = 128
)

// Identity configures Cognito-style identities and the IoT credentials
// provider (--oidc-provider, --cognito-*, --max-role-aliases).
type Identity struct {
	// OIDCProviders are the OpenID Connect issuers whose ID tokens
	// identity pools may accept as logins, each "ISSUER JWKS [CLIENT_ID
	// ...]" (see ParseOIDCProvider). Empty (the default): none.
	OIDCProviders []string `yaml:"oidc-providers"`
	// CredentialDuration is the life of the temporary credentials
	// GetCredentialsForIdentity issues (capped by the role's maximum
	// session). Default 1h (AWS); allowed 15m to 12h.
	CredentialDuration time.Duration `yaml:"credential-duration"`
	// MaxIdentityPools bounds the identity pools of the account. Default
	// 1000 (AWS's quota); allowed 1 to 100000.
	MaxIdentityPools int `yaml:"max-identity-pools"`
	// MaxIdentitiesPerPool bounds the identities of one pool, so that a
	// pool open to guests cannot fill the disk. Default 1000000; allowed
	// 1 to 1000000000.
	MaxIdentitiesPerPool int `yaml:"max-identities-per-pool"`
	// MaxRoleAliases bounds the role aliases of the account. Default 100
	// (AWS's quota); allowed 1 to 100000.
	MaxRoleAliases int `yaml:"max-role-aliases"`
}

func defaultIdentity() Identity {
	return Identity{CredentialDuration: time.Hour, MaxIdentityPools: 1000, MaxIdentitiesPerPool: 1_000_000, MaxRoleAliases: 100}
}

// OIDCProvider is one parsed --oidc-provider.
type OIDCProvider struct {
	// Issuer is the issuer URL exactly as the tokens' iss claim
	// (https://...); the Logins key of its tokens is the URL without
	// "https://" and a trailing slash.
	Issuer string
	// JWKS is where the issuer's signing keys are: an https URL or a file.
	JWKS string
	// ClientIDs are the audiences accepted for pools that name the
	// provider in OpenIdConnectProviderARNs.
	ClientIDs []string
}

// ParseOIDCProvider reads an --oidc-provider value: the issuer URL, the
// JWKS (an https URL or a file path, without spaces), then any client ids,
// separated by spaces, e.g.
//
//	https://login.example.com https://login.example.com/.well-known/jwks.json app-1 app-2
func ParseOIDCProvider(s string) (OIDCProvider, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return OIDCProvider{}, fmt.Errorf("want \"ISSUER JWKS [CLIENT_ID ...]\", got %q", s)
	}
	p := OIDCProvider{Issuer: f[0], JWKS: f[1], ClientIDs: f[2:]}
	u, err := url.Parse(p.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return OIDCProvider{}, fmt.Errorf("issuer %q: want an https URL without query or fragment", p.Issuer)
	}
	switch {
	case strings.HasPrefix(p.JWKS, "http://"):
		return OIDCProvider{}, fmt.Errorf("JWKS %q: keys are fetched over https only", p.JWKS)
	case strings.HasPrefix(p.JWKS, "https://"):
		if u, err := url.Parse(p.JWKS); err != nil || u.Host == "" {
			return OIDCProvider{}, fmt.Errorf("JWKS %q is not a valid URL", p.JWKS)
		}
	case strings.ContainsRune(p.JWKS, 0):
		return OIDCProvider{}, fmt.Errorf("JWKS %q is not a file path", p.JWKS)
	}
	for _, c := range p.ClientIDs {
		if len(c) > maxOIDCProviderClientID || strings.ContainsFunc(c, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.;/-", r))
		}) {
			return OIDCProvider{}, fmt.Errorf("client id %q: want 1 to %d characters of [\\w.;/-]", c, maxOIDCProviderClientID)
		}
	}
	return p, nil
}

func (c Config) validateIdentity(bad func(flag, format string, args ...any)) {
	id := c.Identity
	issuers := map[string]bool{}
	for _, s := range id.OIDCProviders {
		p, err := ParseOIDCProvider(s)
		if err != nil {
			bad("oidc-provider", "%v", err)
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p.Issuer, "https://"), "/")
		if issuers[name] {
			bad("oidc-provider", "issuer %s is given twice", p.Issuer)
		}
		issuers[name] = true
	}
	if id.CredentialDuration < minCredentialDuration || id.CredentialDuration > maxCredentialDuration {
		bad("cognito-credential-duration", "must be between %v and %v, got %v", minCredentialDuration, maxCredentialDuration, id.CredentialDuration)
	}
	if id.MaxIdentityPools < 1 || id.MaxIdentityPools > maxIdentityPools {
		bad("cognito-max-identity-pools", "must be between 1 and %d, got %d", maxIdentityPools, id.MaxIdentityPools)
	}
	if id.MaxIdentitiesPerPool < 1 || id.MaxIdentitiesPerPool > maxIdentitiesPerPool {
		bad("cognito-max-identities-per-pool", "must be between 1 and %d, got %d", maxIdentitiesPerPool, id.MaxIdentitiesPerPool)
	}
	if id.MaxRoleAliases < 1 || id.MaxRoleAliases > maxRoleAliases {
		bad("max-role-aliases", "must be between 1 and %d, got %d", maxRoleAliases, id.MaxRoleAliases)
	}
}
