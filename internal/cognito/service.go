package cognito

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// Store object kinds of this package.
const (
	KindPool         = "cognito/pool"          // key: pool id; value: Pool
	KindIdentity     = "cognito/identity"      // key: identity id; value: Identity
	KindPoolIdentity = "cognito/pool-identity" // key: POOL\x00IDENTITY; value: empty
	KindLogin        = "cognito/login"         // key: POOL\x00PROVIDER\x00SUBJECT; value: identity id
	KindKey          = "cognito/key"           // key: "developer-token"; value: private JWK
)

// Defaults of Options.
const (
	// DefaultCredentialDuration is how long GetCredentialsForIdentity's
	// credentials last, as in AWS.
	DefaultCredentialDuration = time.Hour
	// DefaultMaxPools is AWS's default quota of identity pools per
	// account.
	DefaultMaxPools = 1000
	// DefaultMaxIdentitiesPerPool bounds a pool's identities (AWS has no
	// quota; moat keeps one so that a guest-enabled pool cannot fill the
	// disk).
	DefaultMaxIdentitiesPerPool = 1_000_000
	// DefaultLeeway is the clock skew allowed on a token's exp and nbf.
	DefaultLeeway = time.Minute
)

// Limits of the API shapes (botocore cognito-identity/2014-06-30).
const (
	// MaxLogins is how many logins one request may carry (LoginsMap).
	MaxLogins = 10
	// maxTokenLength bounds a login token (IdentityProviderToken).
	maxTokenLength = 50000
	// maxDeveloperUserID bounds a developer user identifier.
	maxDeveloperUserID = 1024
	// openIDTokenLife is how long GetOpenIdToken's token lasts (AWS: 10
	// minutes).
	openIDTokenLife = 10 * time.Minute
	// defaultDeveloperTokenLife and maxDeveloperTokenLife bound
	// GetOpenIdTokenForDeveloperIdentity's TokenDuration (AWS: 15 minutes
	// by default, at most 24 hours).
	defaultDeveloperTokenLife = 15 * time.Minute
	maxDeveloperTokenLife     = 24 * time.Hour
)

// Options configure a Service. Region and Account are required; every
// other zero value means its default.
type Options struct {
	Region, Account string
	// OIDCProviders are the OpenID Connect issuers whose tokens pools may
	// accept as logins (see OIDCProvider). None by default.
	OIDCProviders []OIDCProvider
	// CredentialDuration is the life of GetCredentialsForIdentity's
	// credentials. Default DefaultCredentialDuration.
	CredentialDuration time.Duration
	// MaxPools bounds the identity pools of the account
	// (LimitExceededException beyond). Default DefaultMaxPools.
	MaxPools int
	// MaxIdentitiesPerPool bounds the identities of one pool
	// (LimitExceededException beyond). Default DefaultMaxIdentitiesPerPool.
	MaxIdentitiesPerPool int
	// Leeway is the clock skew allowed on a token's exp and nbf. Default
	// DefaultLeeway.
	Leeway time.Duration
	// HTTPClient fetches the JWKS of OIDC providers given by URL. Default:
	// a client with a 10 s timeout that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock (for tests). Default time.Now.
	Now func() time.Time
	// Logger receives warnings (a JWKS that failed to load). Default
	// slog.Default().
	Logger *slog.Logger
}

// Service is the identity service over a store.
type Service struct {
	st    store.Store
	mint  Minter
	roles Roles
	opts  Options
	oidc  map[string]*issuer // by provider name
	dev   devKeys
	// OnIdentityDeleted, if set, is called after an identity was deleted
	// (DeleteIdentities, DeleteIdentityPool), outside any transaction,
	// with its id: the credentials already issued for it stay valid until
	// they expire (they are stateless), so live connections that use them
	// should be re-checked. Set it before serving.
	OnIdentityDeleted func(identityID string)
}

// New returns a Service. It fails on invalid options (an OIDC provider
// that is not well formed, a negative limit).
func New(st store.Store, mint Minter, roles Roles, opts Options) (*Service, error) {
	if opts.Region == "" || opts.Account == "" {
		return nil, errors.New("cognito: Options.Region and Options.Account are required")
	}
	if opts.CredentialDuration < 0 || opts.MaxPools < 0 || opts.MaxIdentitiesPerPool < 0 || opts.Leeway < 0 {
		return nil, errors.New("cognito: negative option")
	}
	if opts.CredentialDuration == 0 {
		opts.CredentialDuration = DefaultCredentialDuration
	}
	if opts.MaxPools == 0 {
		opts.MaxPools = DefaultMaxPools
	}
	if opts.MaxIdentitiesPerPool == 0 {
		opts.MaxIdentitiesPerPool = DefaultMaxIdentitiesPerPool
	}
	if opts.Leeway == 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{st: st, mint: mint, roles: roles, opts: opts, oidc: map[string]*issuer{}}
	for _, p := range opts.OIDCProviders {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("cognito: %w", err)
		}
		if _, dup := s.oidc[p.Name()]; dup {
			return nil, fmt.Errorf("cognito: OIDC provider %s given twice", p.Name())
		}
		s.oidc[p.Name()] = &issuer{OIDCProvider: p}
	}
	return s, nil
}

// Region is the region of the pools and identities.
func (s *Service) Region() string { return s.opts.Region }

// PoolARN is the ARN of an identity pool, the resource of the
// cognito-identity actions on it.
func (s *Service) PoolARN(poolID string) string {
	return "arn:aws:cognito-identity:" + s.opts.Region + ":" + s.opts.Account + ":identitypool/" + poolID
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }
