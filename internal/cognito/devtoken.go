package cognito

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/moat-iot/moat/internal/store"
)

// The issuer of the OpenID tokens moat signs (GetOpenIdToken,
// GetOpenIdTokenForDeveloperIdentity), as AWS names its own; the provider
// name, the Logins key that presents one, is DeveloperIssuerName.
const (
	DeveloperIssuer     = "https://cognito-identity.amazonaws.com"
	DeveloperIssuerName = "cognito-identity.amazonaws.com"
)

// developerKeyName is the KindKey object of the token signing key.
const developerKeyName = "developer-token"

// devKeys is the token signing key, loaded from the store once.
type devKeys struct {
	mu     sync.Mutex
	signer jose.Signer
	public []jose.JSONWebKey
}

// tokenClaims are the claims of moat's OpenID tokens beyond the standard
// ones.
type tokenClaims struct {
	// AMR is "authenticated" and the identity's login providers, or
	// "unauthenticated".
	AMR []string `json:"amr,omitempty"`
}

// developerKey returns the signer and public key of moat's OpenID tokens:
// an ECDSA P-256 key (ES256) kept in the store, made on first use, so that
// every node sharing the store signs and verifies with it.
func (s *Service) developerKey(ctx context.Context) (jose.Signer, []jose.JSONWebKey, error) {
	k := &s.dev
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signer != nil {
		return k.signer, k.public, nil
	}
	var jwk jose.JSONWebKey
	err := s.st.Update(ctx, func(tx store.Tx) error {
		o, err := tx.Object(KindKey, developerKeyName)
		if err == nil {
			return jwk.UnmarshalJSON(o.Value)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		id := make([]byte, 8)
		if _, err := rand.Read(id); err != nil {
			return err
		}
		jwk = jose.JSONWebKey{Key: priv, KeyID: hex.EncodeToString(id), Algorithm: string(jose.ES256), Use: "sig"}
		b, err := jwk.MarshalJSON()
		if err != nil {
			return err
		}
		now := s.now()
		return tx.InsertObject(store.Object{Kind: KindKey, Key: developerKeyName, Value: b, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cognito: token signing key: %w", err)
	}
	if _, ok := jwk.Key.(*ecdsa.PrivateKey); !ok {
		return nil, nil, fmt.Errorf("cognito: token signing key is a %T, want an ECDSA private key", jwk.Key)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, nil, fmt.Errorf("cognito: token signer: %w", err)
	}
	k.signer, k.public = signer, []jose.JSONWebKey{jwk.Public()}
	return k.signer, k.public, nil
}

// signToken makes an OpenID token for an identity of a pool.
func (s *Service) signToken(ctx context.Context, poolID, identityID string, amr []string, life time.Duration) (string, error) {
	signer, _, err := s.developerKey(ctx)
	if err != nil {
		return "", err
	}
	now := s.now()
	std := jwt.Claims{
		Issuer: DeveloperIssuer, Subject: identityID, Audience: jwt.Audience{poolID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(life)),
	}
	return jwt.Signed(signer).Claims(std).Claims(tokenClaims{AMR: amr}).Serialize()
}

// verifyDeveloperToken verifies an OpenID token moat signed for a pool and
// returns the identity it names.
func (s *Service) verifyDeveloperToken(ctx context.Context, poolID, token string) (string, error) {
	_, public, err := s.developerKey(ctx)
	if err != nil {
		return "", err
	}
	keys := func(string) ([]jose.JSONWebKey, error) { return public, nil }
	var extra tokenClaims
	std, err := s.verifyJWT(token, keys, DeveloperIssuer, []string{poolID}, &extra)
	if err != nil {
		return "", err
	}
	if !IsIdentityID(std.Subject) {
		return "", notAuthorized(nil, "Invalid login token. Not a valid OpenId Connect identity token.")
	}
	// A guest's token (GetOpenIdToken) proves the identity but no login:
	// it must not make the guest authenticated.
	if len(extra.AMR) == 0 || extra.AMR[0] != "authenticated" {
		return "", notAuthorized(nil, "Invalid login token. The token is not of an authenticated identity.")
	}
	return std.Subject, nil
}

// DeveloperTokenInput is GetOpenIdTokenForDeveloperIdentity's request.
type DeveloperTokenInput struct {
	PoolID string
	// IdentityID, if set, is the identity to link the developer user to;
	// "" finds it by the user, or makes a new one.
	IdentityID string
	// Logins must map the pool's DeveloperProviderName to the back end's
	// user identifier; other entries are logins to link too.
	Logins map[string]string
	// TokenDuration is the token's life, 1s to 24h; 0 means 15 minutes.
	TokenDuration time.Duration
}

// GetOpenIDTokenForDeveloperIdentity links a developer user to an
// identity (a new one on first use) and returns the identity id and an
// OpenID token for it, which the app presents as the login
// "cognito-identity.amazonaws.com". The caller (the app's back end) is
// authorized by the API layer.
func (s *Service) GetOpenIDTokenForDeveloperIdentity(ctx context.Context, in DeveloperTokenInput) (string, string, error) {
	if err := s.checkID("IdentityPoolId", in.PoolID, poolNotFound); err != nil {
		return "", "", err
	}
	if in.IdentityID != "" {
		if err := s.checkID("IdentityId", in.IdentityID, identityNotFound); err != nil {
			return "", "", err
		}
	}
	life := in.TokenDuration
	switch {
	case life == 0:
		life = defaultDeveloperTokenLife
	case life < time.Second || life > maxDeveloperTokenLife:
		return "", "", invalid("TokenDuration must be 1 to %d seconds.", int(maxDeveloperTokenLife/time.Second))
	}
	if len(in.Logins) > MaxLogins {
		return "", "", invalid("Logins has %d entries; at most %d are allowed.", len(in.Logins), MaxLogins)
	}
	pool, err := s.DescribePool(ctx, in.PoolID)
	if err != nil {
		return "", "", err
	}
	dev := pool.DeveloperProviderName
	if dev == "" {
		return "", "", invalid("Identity pool %s has no DeveloperProviderName; set one with UpdateIdentityPool.", pool.ID)
	}
	user, ok := in.Logins[dev]
	if !ok {
		return "", "", invalid("Logins must map the developer provider name %s to the user identifier.", dev)
	}
	if len(user) > maxDeveloperUserID || !validSubject(user) {
		return "", "", invalid("Logins[%s]: a developer user identifier must be 1 to %d characters long, without control characters.", dev, maxDeveloperUserID)
	}
	others := make(map[string]string, len(in.Logins))
	for k, v := range in.Logins {
		if k != dev {
			others[k] = v
		}
	}
	ls, err := s.verifyLogins(ctx, pool, others)
	if err != nil {
		return "", "", err
	}
	ls = append(ls, login{Login: Login{Provider: dev, Subject: user}})
	var ident Identity
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		ident, err = s.link(tx, pool.ID, in.IdentityID, ls, func(found string) error {
			return errorf(DeveloperUserAlreadyRegistered, "The developer user is already linked to another identity ('%s').", found)
		})
		return err
	})
	if err != nil {
		return "", "", err
	}
	token, err := s.signToken(ctx, pool.ID, ident.ID, authenticatedAMR(ident.Providers()), life)
	return ident.ID, token, err
}

// GetOpenIDToken returns an OpenID token (10 minutes) for an identity the
// request may act as (see GetCredentials for the rules of Logins).
func (s *Service) GetOpenIDToken(ctx context.Context, identityID string, logins map[string]string) (string, error) {
	ident, pool, amr, err := s.prove(ctx, identityID, logins)
	if err != nil {
		return "", err
	}
	return s.signToken(ctx, pool.ID, ident.ID, amr, openIDTokenLife)
}

// authenticatedAMR is the amr of an authenticated identity: the word,
// then its providers, each once.
func authenticatedAMR(providers []string) []string {
	out := []string{"authenticated"}
	for _, p := range providers {
		if !containsFold(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
