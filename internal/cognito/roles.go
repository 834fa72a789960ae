package cognito

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
)

// Role is an IAM role as the issuers of temporary credentials (this
// package and internal/rolealias) need it.
type Role struct {
	Name string // the role name, without its path
	ID   string // the role's unique id (AROA...); "" if unknown
	ARN  string // arn:aws:iam::ACCOUNT:role/PATH/NAME
	// MaxSessionDuration bounds the credentials issued for it (IAM:
	// 1h to 12h).
	MaxSessionDuration time.Duration
	// Trusts reports whether the role's trust policy lets principal (of
	// principalType "Federated", "Service" or "AWS") assume it, with vars
	// the request's condition keys. nil trusts no one.
	Trusts func(principalType, principal string, vars *policy.Vars) bool
}

// Roles finds IAM roles. RoleByARN returns an error wrapping ErrNoSuchRole
// when no role has the ARN; any other error is a failure.
type Roles interface {
	RoleByARN(ctx context.Context, arn string) (Role, error)
}

// ErrNoSuchRole is the error Roles returns for an unknown role.
var ErrNoSuchRole = errors.New("no such role")

// Minter issues temporary credentials (auth.Authenticator).
type Minter interface {
	Mint(ctx context.Context, s auth.Session) (auth.Credentials, error)
}

var _ Minter = (*auth.Authenticator)(nil)

// Trust principals (the trust policy's Principal element).
const (
	// FederatedPrincipal is who assumes a pool's roles.
	FederatedPrincipal = "cognito-identity.amazonaws.com"
	// CredentialsProviderPrincipal is who assumes a role alias's role
	// (internal/rolealias).
	CredentialsProviderPrincipal = "credentials.iot.amazonaws.com"
)

// CheckRoleARN checks that s is an IAM role ARN of account
// (arn:aws:iam::ACCOUNT:role/[PATH/]NAME); member names it in the error,
// made by bad.
func CheckRoleARN(member, s, account string, bad func(format string, args ...any) error) error {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || a.Region != "" || a.Type() != "role" || a.Name() == "" || len(s) > 2048 {
		return bad("%s %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).", member, s)
	}
	if a.Account != account {
		return bad("%s %q is not a role of this account (%s).", member, s, account)
	}
	if strings.ContainsAny(a.Name(), " \t\r\n") {
		return bad("%s %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).", member, s)
	}
	return nil
}
