package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/api/cognitoapi"
	"github.com/moat-iot/moat/internal/api/iamapi"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/iam"
	"github.com/moat-iot/moat/internal/rolealias"
)

// identity holds the services of the principals other than devices:
// IAM users and roles (with STS), custom authorizers, Cognito-style
// identity pools and the IoT credentials provider's role aliases.
type identity struct {
	iam         *iam.Service
	authorizers *authorizer.Service
	cognito     *cognito.Service
	roleAliases *rolealias.Service
}

// newIdentity builds the identity services over the store. adminKey is
// the data dir's administrator access key, which the IAM API protects.
func (s *Server) newIdentity(arns arn.Builder, adminKey string) (*identity, error) {
	id := &identity{}
	var err error
	id.iam, err = iam.New(iam.Config{Store: s.st, Account: s.cfg.AccountID, Minter: s.auth, AdminAccessKeyID: adminKey,
		OnChange: s.identityChanged})
	if err != nil {
		return nil, err
	}
	var fnURLs []*url.URL
	for _, d := range s.cfg.CustomAuth.URLs {
		u, err := config.ParseDestination(d)
		if err != nil {
			return nil, fmt.Errorf("--authorizer-url: %w", err)
		}
		fnURLs = append(fnURLs, u)
	}
	id.authorizers, err = authorizer.New(s.st, arns, authorizer.Options{
		Timeout: s.cfg.CustomAuth.Timeout, MaxInFlight: s.cfg.CustomAuth.MaxInFlight, CAFile: s.cfg.CustomAuth.CAFile, Logger: s.log,
		AllowURL: func(u *url.URL) error {
			if config.AllowDestination(fnURLs, u) {
				return nil
			}
			return fmt.Errorf("%s is not an allowed authorizer function URL (--authorizer-url)", u.Redacted())
		},
	})
	if err != nil {
		return nil, err
	}
	roles := iamRoles{id.iam}
	var providers []cognito.OIDCProvider
	for _, v := range s.cfg.Identity.OIDCProviders {
		p, err := config.ParseOIDCProvider(v)
		if err != nil {
			return nil, err
		}
		providers = append(providers, cognito.OIDCProvider{Issuer: p.Issuer, JWKS: p.JWKS, ClientIDs: p.ClientIDs})
	}
	id.cognito, err = cognito.New(s.st, s.auth, roles, cognito.Options{
		Region: s.cfg.Region, Account: s.cfg.AccountID, OIDCProviders: providers,
		CredentialDuration: s.cfg.Identity.CredentialDuration, MaxPools: s.cfg.Identity.MaxIdentityPools,
		MaxIdentitiesPerPool: s.cfg.Identity.MaxIdentitiesPerPool, Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	id.roleAliases = rolealias.New(s.st, arns, roles, rolealias.Options{Max: s.cfg.Identity.MaxRoleAliases})
	return id, nil
}

// iamRoles gives Cognito and the credentials provider IAM's roles.
type iamRoles struct{ s *iam.Service }

func (r iamRoles) RoleByARN(ctx context.Context, roleARN string) (cognito.Role, error) {
	role, err := r.s.RoleByARN(ctx, roleARN)
	if errors.Is(err, iam.ErrNoSuchEntity) {
		return cognito.Role{}, errors.Join(cognito.ErrNoSuchRole, err)
	}
	if err != nil {
		return cognito.Role{}, err
	}
	return cognito.Role{Name: role.Name, ID: role.ID, ARN: role.ARN, MaxSessionDuration: role.MaxSessionDuration, Trusts: role.Trusts}, nil
}

// rootHandler serves POST / for the APIs that share it: Cognito Identity
// (awsJson1_1, told by its X-Amz-Target) and IAM and STS (awsQuery, a
// form body); anything else goes to h (the iot router, which answers
// UnknownOperationException).
func rootHandler(cog *cognitoapi.API, q *iamapi.API, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method == http.MethodPost {
			switch {
			case cognitoapi.Handles(r):
				cog.ServeHTTP(w, r)
				return
			case iamapi.IsQueryRequest(r):
				q.ServeHTTP(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// identityChanged makes IAM changes bite at once: an access key made
// Inactive or deleted (the authenticator's key cache forgets it), a
// user's or role's policies changed or the user or role deleted, or a
// managed policy changed re-check the live MQTT connections that relied
// on it (closed if they may no longer connect).
func (s *Server) identityChanged(c iam.Change) {
	if c.AccessKeyID != "" {
		s.auth.ForgetAccessKey(c.AccessKeyID)
	}
	s.recheckAccess(func(p *access.Permissions) bool {
		switch {
		case c.AccessKeyID != "" && p.AccessKeyID() == c.AccessKeyID,
			c.UserName != "" && strings.EqualFold(p.UserName(), c.UserName),
			c.RoleName != "" && strings.EqualFold(p.RoleName(), c.RoleName):
			return true
		case c.PolicyARN != "":
			// A managed policy may be attached to any user or role.
			k := p.PrincipalKind()
			return k == auth.KindUser || k == auth.KindRole
		}
		return false
	})
}

// recheckAccess re-checks, in the background, the live connections whose
// permissions match.
func (s *Server) recheckAccess(match func(*access.Permissions) bool) {
	if s.broker == nil {
		return
	}
	go s.broker.Recheck(context.Background(), func(p broker.Permissions) bool {
		ap, ok := p.(*access.Permissions)
		return ok && match(ap)
	})
}

// wireIdentityRechecks connects the other identity services' change
// hooks: a deleted Cognito identity, and a custom authorizer updated
// (status, keys, function) or deleted re-check their connections; and a
// ticker re-checks custom-authorizer connections whose
// refreshAfterInSeconds is due (the function is invoked again and its new
// policies applied) until stop is closed.
func (s *Server) wireIdentityRechecks(id *identity, stop <-chan struct{}) {
	id.cognito.OnIdentityDeleted = func(identityID string) {
		s.recheckAccess(func(p *access.Permissions) bool { return p.IdentityID() == identityID })
	}
	id.authorizers.OnChange = func(name string) {
		s.recheckAccess(func(p *access.Permissions) bool {
			return p.PrincipalKind() == auth.KindAuthorizer && (name == "" || p.AuthorizerName() == name)
		})
	}
	go func() {
		t := time.NewTicker(authorizerRefreshTick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				s.broker.Recheck(context.Background(), func(p broker.Permissions) bool {
					ap, ok := p.(*access.Permissions)
					return ok && ap.DueForRefresh(now)
				})
			}
		}
	}()
}

// authorizerRefreshTick is how often connections are looked at for a due
// custom-authorizer refresh: refreshAfterInSeconds is at least 300 s, so a
// refresh comes at most 5 s late, and the scan (every connection, under
// the broker's lock) stays rare.
const authorizerRefreshTick = 5 * time.Second
