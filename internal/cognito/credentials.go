package cognito

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// SessionName is the role session name of Cognito credentials, as AWS
// names it.
const SessionName = "CognitoIdentityCredentials"

// Condition keys of a pool role's trust policy (and of the IoT policies
// of an identity: ${cognito-identity.amazonaws.com:sub}).
const (
	KeyAud = "cognito-identity.amazonaws.com:aud" // the pool id
	KeyAMR = "cognito-identity.amazonaws.com:amr" // "authenticated" and the providers, or "unauthenticated"
	KeySub = "cognito-identity.amazonaws.com:sub" // the identity id
)

// errLoginsDontMatch is AWS's answer when an authenticated identity is
// used without a login of its own.
func errLoginsDontMatch() error {
	return notAuthorized(nil, "Logins don't match. Please include at least one valid login for this identity or identity pool.")
}

// prove checks that a request may act as an identity: an authenticated
// identity needs logins, every one of them this identity's or not linked
// yet (those are linked now, which also makes a guest identity
// authenticated); a guest identity needs a pool that allows guests. It
// returns the identity, its pool and the amr of the session.
func (s *Service) prove(ctx context.Context, identityID string, logins map[string]string) (Identity, Pool, []string, error) {
	if err := s.checkID("IdentityId", identityID, identityNotFound); err != nil {
		return Identity{}, Pool{}, nil, err
	}
	var ident Identity
	var pool Pool
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		if ident, err = getIdentity(tx, identityID); err != nil {
			return err
		}
		pool, err = getPool(tx, ident.PoolID)
		if awsapi.Is(err, ResourceNotFound) {
			return identityNotFound(identityID) // its pool is being deleted
		}
		return err
	})
	if err != nil {
		return Identity{}, Pool{}, nil, err
	}
	ls, err := s.verifyLogins(ctx, pool, logins)
	if err != nil {
		return Identity{}, Pool{}, nil, err
	}
	if len(ls) == 0 {
		if ident.Authenticated() {
			return Identity{}, Pool{}, nil, errLoginsDontMatch()
		}
		if !pool.AllowUnauthenticated {
			return Identity{}, Pool{}, nil, notAuthorized(nil, "Unauthenticated access is not supported for this identity pool.")
		}
		return ident, pool, []string{"unauthenticated"}, nil
	}
	var unlinked []login
	err = s.st.View(ctx, func(tx store.Tx) error {
		found, u, ok, err := resolve(tx, pool.ID, ls)
		if err == nil && (!ok || found != "" && found != identityID) {
			err = errLoginsDontMatch()
		}
		unlinked = u
		return err
	})
	if err != nil {
		return Identity{}, Pool{}, nil, err
	}
	if len(unlinked) > 0 {
		err = s.st.Update(ctx, func(tx store.Tx) error {
			var err error
			ident, err = s.link(tx, pool.ID, identityID, ls, func(string) error { return errLoginsDontMatch() })
			return err
		})
		if err != nil {
			return Identity{}, Pool{}, nil, err
		}
	}
	providers := ident.Providers()
	for _, l := range ls {
		providers = append(providers, l.Provider)
	}
	return ident, pool, authenticatedAMR(providers), nil
}

// Credentials are GetCredentialsForIdentity's answer.
type Credentials struct {
	IdentityID string
	auth.Credentials
}

// GetCredentials returns temporary credentials for an identity
// (GetCredentialsForIdentity): for the pool's authenticated role when the
// identity is authenticated (its logins are required), else for its
// unauthenticated role. The role must exist and trust
// cognito-identity.amazonaws.com for this pool and amr
// (InvalidIdentityPoolConfigurationException otherwise). customRoleARN,
// if given, must be that role (moat has no role mappings).
func (s *Service) GetCredentials(ctx context.Context, identityID string, logins map[string]string, customRoleARN string) (Credentials, error) {
	if customRoleARN != "" && (len(customRoleARN) < 20 || len(customRoleARN) > 2048) {
		return Credentials{}, invalid("CustomRoleArn must be 20 to 2048 characters long.")
	}
	ident, pool, amr, err := s.prove(ctx, identityID, logins)
	if err != nil {
		return Credentials{}, err
	}
	authenticated := amr[0] == "authenticated"
	kind, roleARN := "unauthenticated", pool.Roles.Unauthenticated
	if authenticated {
		kind, roleARN = "authenticated", pool.Roles.Authenticated
	}
	if roleARN == "" {
		return Credentials{}, badPoolConfig(fmt.Errorf("identity pool %s has no %s role", pool.ID, kind))
	}
	if customRoleARN != "" && customRoleARN != roleARN {
		return Credentials{}, invalid("CustomRoleArn %s is not the %s role of identity pool %s.", customRoleARN, kind, pool.ID)
	}
	role, err := s.roles.RoleByARN(ctx, roleARN)
	if errors.Is(err, ErrNoSuchRole) {
		return Credentials{}, badPoolConfig(err)
	}
	if err != nil {
		return Credentials{}, err
	}
	vars := &policy.Vars{}
	vars.Set(KeyAud, pool.ID)
	vars.Set(KeyAMR, amr...)
	vars.Set(KeySub, ident.ID)
	if role.Trusts == nil || !role.Trusts("Federated", FederatedPrincipal, vars) {
		return Credentials{}, badPoolConfig(fmt.Errorf("the trust policy of role %s does not let %s assume it for pool %s (amr %v)", role.ARN, FederatedPrincipal, pool.ID, amr))
	}
	life := s.opts.CredentialDuration
	if role.MaxSessionDuration > 0 && life > role.MaxSessionDuration {
		life = role.MaxSessionDuration
	}
	now := s.now()
	creds, err := s.mint.Mint(ctx, auth.Session{
		RoleName: role.Name, RoleARN: role.ARN, RoleID: role.ID, SessionName: SessionName, Source: auth.SourceCognito,
		IdentityID: ident.ID, IdentityPoolID: pool.ID, Authenticated: authenticated,
		IssuedAt: now, Expiration: now.Add(life).Truncate(time.Second),
	})
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{IdentityID: ident.ID, Credentials: creds}, nil
}
