package cognito

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OIDCProvider is an OpenID Connect issuer whose ID tokens identity pools
// may accept as logins (the operator's --oidc-provider; IAM's
// CreateOpenIDConnectProvider in AWS).
type OIDCProvider struct {
	// Issuer is the issuer URL, exactly as the tokens' iss claim
	// (https://...). Its provider name, the Logins key, is the URL
	// without "https://" and a trailing slash.
	Issuer string
	// JWKS is where the issuer's signing keys are: an https URL (fetched
	// when first needed, then every 15 minutes or when a token names a
	// key not seen, at most every 30 seconds) or a file path (read the
	// same way).
	JWKS string
	// ClientIDs are the audiences accepted for pools that name the
	// provider in OpenIdConnectProviderARNs. A pool that names it in
	// SupportedLoginProviders accepts that client id instead.
	ClientIDs []string
}

// Name is the provider name: the issuer without "https://" and a
// trailing slash.
func (p OIDCProvider) Name() string {
	return strings.TrimSuffix(strings.TrimPrefix(p.Issuer, "https://"), "/")
}

// Validate checks the provider's form (not whether its keys load).
func (p OIDCProvider) Validate() error {
	u, err := url.Parse(p.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("OIDC provider issuer %q: want an https URL without query or fragment", p.Issuer)
	}
	if n := p.Name(); len(n) > maxProviderName {
		return fmt.Errorf("OIDC provider issuer %q: the provider name %s is longer than %d characters", p.Issuer, n, maxProviderName)
	}
	switch {
	case p.JWKS == "":
		return fmt.Errorf("OIDC provider %s: no JWKS (an https URL or a file)", p.Name())
	case strings.HasPrefix(p.JWKS, "http://"):
		return fmt.Errorf("OIDC provider %s: JWKS %q: keys are fetched over https only", p.Name(), p.JWKS)
	case strings.HasPrefix(p.JWKS, "https://"):
		if u, err := url.Parse(p.JWKS); err != nil || u.Host == "" {
			return fmt.Errorf("OIDC provider %s: JWKS %q is not a valid URL", p.Name(), p.JWKS)
		}
	case strings.ContainsRune(p.JWKS, 0):
		return fmt.Errorf("OIDC provider %s: JWKS %q is not a file path", p.Name(), p.JWKS)
	}
	for _, c := range p.ClientIDs {
		if err := checkClientID("client id", c); err != nil {
			return fmt.Errorf("OIDC provider %s: client id %q: want 1 to %d characters of [\\w.;_/-]", p.Name(), c, maxProviderName)
		}
	}
	return nil
}

// issuer is a configured provider with its cached keys.
type issuer struct {
	OIDCProvider
	mu     sync.Mutex // guards the fields below; held while keys load
	keys   []jose.JSONWebKey
	loaded time.Time // when keys were loaded
	tried  time.Time // the last load attempt
}

const (
	jwksTTL     = 15 * time.Minute // keys are reloaded after this long
	jwksRetry   = 30 * time.Second // an unknown kid reloads at most this often
	maxJWKSSize = 1 << 20
)

// signingAlgorithms are the JWS algorithms accepted: asymmetric only, so
// that no key of a JWKS can be used as an HMAC secret.
var signingAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keysFor returns the issuer's keys with this kid (every key when kid is
// ""), loading them when they are stale or the kid is unknown.
func (s *Service) keysFor(ctx context.Context, is *issuer, kid string) ([]jose.JSONWebKey, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	now := s.opts.Now()
	fresh := !is.loaded.IsZero() && now.Sub(is.loaded) < jwksTTL
	if match := matchKid(is.keys, kid); fresh && len(match) > 0 {
		return match, nil
	}
	if !fresh || now.Sub(is.tried) >= jwksRetry {
		is.tried = now
		keys, err := s.loadJWKS(ctx, is.JWKS)
		switch {
		case err == nil:
			is.keys, is.loaded = keys, now
		case is.keys == nil:
			e := errorf(ExternalService, "The signing keys of OpenID Connect provider %s could not be loaded.", is.Name())
			e.Cause = err
			return nil, e
		default:
			s.opts.Logger.Warn("oidc: keys did not reload; the previous ones stay in use", "provider", is.Name(), "err", err)
		}
	}
	return matchKid(is.keys, kid), nil
}

func matchKid(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	if kid == "" {
		return keys
	}
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// loadJWKS reads a JWKS from an https URL or a file and keeps its public
// signing keys (RSA, EC, Ed25519); keys of other types, or for
// encryption, are skipped.
func (s *Service) loadJWKS(ctx context.Context, src string) ([]jose.JSONWebKey, error) {
	var body []byte
	if strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := s.opts.HTTPClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
		}
		if body, err = io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1)); err != nil {
			return nil, fmt.Errorf("GET %s: %w", src, err)
		}
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if body, err = io.ReadAll(io.LimitReader(f, maxJWKSSize+1)); err != nil {
			return nil, err
		}
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("JWKS %s is larger than %d bytes", src, maxJWKSSize)
	}
	return parseJWKS(body)
}

// parseJWKS parses a JWK set and returns its usable public signing keys.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var out []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.Valid() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		k = k.Public()
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS has no usable public signing key")
	}
	return out, nil
}

// verifyJWT checks a compact JWS token: an accepted algorithm, a
// signature by one of keys (a key that names an algorithm must name the
// token's), then the claims: iss, an audience among audiences, exp (which
// must be present) and nbf with the leeway, and a subject. claims
// receives the payload.
func (s *Service) verifyJWT(token string, keys func(kid string) ([]jose.JSONWebKey, error), iss string, audiences []string, claims any) (jwt.Claims, error) {
	tok, err := jwt.ParseSigned(token, signingAlgorithms)
	if err != nil {
		return jwt.Claims{}, notAuthorized(err, "Invalid login token. Not a valid OpenId Connect identity token.")
	}
	h := tok.Headers[0]
	candidates, err := keys(h.KeyID)
	if err != nil {
		return jwt.Claims{}, err
	}
	var std jwt.Claims
	verified := false
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if tok.Claims(k.Key, &std, claims) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return jwt.Claims{}, notAuthorized(fmt.Errorf("no key of %d (kid %q) verifies the signature", len(candidates), h.KeyID), "Invalid login token. Couldn't verify signed token.")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: audiences, Time: s.opts.Now()}, s.opts.Leeway)
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return jwt.Claims{}, notAuthorized(err, "Invalid login token. Issuer doesn't match providerName")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return jwt.Claims{}, notAuthorized(err, "Invalid login token. Incorrect token audience.")
	case errors.Is(err, jwt.ErrExpired):
		return jwt.Claims{}, notAuthorized(err, "Invalid login token. Token expired: %s", std.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return jwt.Claims{}, notAuthorized(err, "Invalid login token. Token is not valid yet.")
	case err != nil:
		return jwt.Claims{}, notAuthorized(err, "Invalid login token.")
	case std.Expiry == nil:
		return jwt.Claims{}, notAuthorized(nil, "Invalid login token. Missing a required claim: exp")
	case !validSubject(std.Subject):
		return jwt.Claims{}, notAuthorized(nil, "Invalid login token. Missing a required claim: sub")
	}
	return std, nil
}

// validSubject accepts a subject that can be a login index key part:
// 1 to 1024 characters, none a control character.
func validSubject(sub string) bool {
	if sub == "" || len(sub) > maxDeveloperUserID {
		return false
	}
	return !strings.ContainsFunc(sub, unicode.IsControl)
}

// verifyOIDC verifies a login token of an OIDC provider for a pool and
// returns its subject.
func (s *Service) verifyOIDC(ctx context.Context, pool Pool, is *issuer, token string) (string, error) {
	var audiences []string
	if c, ok := pool.SupportedLoginProviders[is.Name()]; ok {
		audiences = append(audiences, c)
	}
	if slices.Contains(pool.OpenIDConnectProviderARNs, "arn:aws:iam::"+s.opts.Account+":oidc-provider/"+is.Name()) {
		audiences = append(audiences, is.ClientIDs...)
	}
	if len(audiences) == 0 {
		return "", notAuthorized(nil, "Invalid login token. %s is not a login provider of identity pool %s.", is.Name(), pool.ID)
	}
	keys := func(kid string) ([]jose.JSONWebKey, error) { return s.keysFor(ctx, is, kid) }
	std, err := s.verifyJWT(token, keys, is.Issuer, audiences, &struct{}{})
	if err != nil {
		return "", err
	}
	return std.Subject, nil
}

// verifyLogins verifies every login of a request for a pool: a developer
// token of the pool, or a token of an OIDC provider the pool trusts.
// Any login that does not verify refuses the request.
func (s *Service) verifyLogins(ctx context.Context, pool Pool, logins map[string]string) ([]login, error) {
	if len(logins) > MaxLogins {
		return nil, invalid("Logins has %d entries; at most %d are allowed.", len(logins), MaxLogins)
	}
	var out []login
	for _, provider := range sortedKeys(logins) {
		token := logins[provider]
		if n := len(provider); n < 1 || n > maxProviderName {
			return nil, invalid("Logins: a provider name must be 1 to %d characters long.", maxProviderName)
		}
		if n := len(token); n < 1 || n > maxTokenLength {
			return nil, invalid("Logins[%s]: a token must be 1 to %d characters long.", provider, maxTokenLength)
		}
		switch is, ok := s.oidc[provider]; {
		case provider == DeveloperIssuerName:
			id, err := s.verifyDeveloperToken(ctx, pool.ID, token)
			if err != nil {
				return nil, err
			}
			out = append(out, login{Login: Login{Provider: provider}, identity: id})
		case ok:
			sub, err := s.verifyOIDC(ctx, pool, is, token)
			if err != nil {
				return nil, err
			}
			out = append(out, login{Login: Login{Provider: provider, Subject: sub}})
		default:
			return nil, notAuthorized(nil, "Invalid login token. %s is not a login provider of identity pool %s.", provider, pool.ID)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
