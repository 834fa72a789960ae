// Package rolealias keeps AWS IoT role aliases and serves the IoT
// credentials provider: a device authenticated by its X.509 certificate
// exchanges it for temporary AWS credentials of the IAM role an alias
// points to (GET /role-aliases/{alias}/credentials, AWS's
// iot:CredentialProvider endpoint; see Endpoint).
//
// A role alias (arn:aws:iot:REGION:ACCOUNT:rolealias/NAME) names an IAM
// role and how long its credentials last (900 to 43,200 seconds, 3,600
// by default), so that devices keep working when the role changes. The
// control operations (CreateRoleAlias, DescribeRoleAlias,
// UpdateRoleAlias, ListRoleAliases, DeleteRoleAlias) are served by
// internal/api/control over this package; aliases are store objects
// (Kind, key the alias name) and their tags live with the other IoT tags,
// by ARN. Creating or updating an alias needs the role to exist; AWS also
// asks the caller for iam:PassRole on it, which moat does not check.
package rolealias

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/paging"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Kind is the store object kind of role aliases (key: the alias name).
const Kind = "iot/rolealias"

// Limits and defaults (botocore iot CredentialDurationSeconds; AWS IoT's
// default quota of role aliases per account).
const (
	MinDuration     = 900
	MaxDuration     = 43200
	DefaultDuration = 3600
	DefaultMax      = 100
	maxNameLength   = 128
)

// Alias is a role alias.
type Alias struct {
	Name    string `json:"name"`
	RoleARN string `json:"roleArn"`
	// DurationSeconds is the life of the credentials issued for it.
	DurationSeconds int       `json:"credentialDurationSeconds"`
	Owner           string    `json:"owner"` // the account id
	CreatedAt       time.Time `json:"created"`
	UpdatedAt       time.Time `json:"updated"`
}

// Options configure a Service; zero values mean the defaults.
type Options struct {
	// Max bounds the role aliases of the account (LimitExceededException
	// beyond). Default DefaultMax.
	Max int
	// Now is the clock (for tests). Default time.Now.
	Now func() time.Time
}

// Service keeps role aliases over a store.
type Service struct {
	st    store.Store
	arns  arn.Builder
	roles cognito.Roles
	opts  Options
}

// New returns a Service; roles finds the IAM roles aliases point to.
func New(st store.Store, arns arn.Builder, roles cognito.Roles, opts Options) *Service {
	if opts.Max <= 0 {
		opts.Max = DefaultMax
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{st: st, arns: arns, roles: roles, opts: opts}
}

// ARN is the ARN of a role alias, the resource of iot:CreateRoleAlias,
// iot:AssumeRoleWithCertificate and the other role alias actions.
func (s *Service) ARN(name string) string { return s.arns.IoT("rolealias", name) }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// CheckName checks a role alias name: 1 to 128 characters of [\w=,@-].
func CheckName(name string) error {
	if name == "" {
		return names.Required("roleAlias")
	}
	if len(name) > maxNameLength {
		return awsapi.Errorf(awsapi.InvalidRequest, "roleAlias must be 1 to %d characters long, got %d.", maxNameLength, len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_=,@-", r)) {
			return awsapi.Errorf(awsapi.InvalidRequest, "roleAlias %q must match the pattern [\\w=,@-]+.", name)
		}
	}
	return nil
}

func checkDuration(d int) error {
	if d < MinDuration || d > MaxDuration {
		return awsapi.Errorf(awsapi.InvalidRequest, "credentialDurationSeconds must be %d to %d, got %d.", MinDuration, MaxDuration, d)
	}
	return nil
}

// checkRole checks that roleARN is a role of this account that exists.
func (s *Service) checkRole(ctx context.Context, roleARN string) error {
	if roleARN == "" {
		return names.Required("roleArn")
	}
	if len(roleARN) < 20 {
		return awsapi.Errorf(awsapi.InvalidRequest, "roleArn must be 20 to 2048 characters long.")
	}
	err := cognito.CheckRoleARN("roleArn", roleARN, s.arns.Account, func(f string, a ...any) error { return awsapi.Errorf(awsapi.InvalidRequest, f, a...) })
	if err != nil {
		return err
	}
	if _, err := s.roles.RoleByARN(ctx, roleARN); errors.Is(err, cognito.ErrNoSuchRole) {
		return awsapi.Errorf(awsapi.InvalidRequest, "Role %s does not exist.", roleARN)
	} else if err != nil {
		return err
	}
	return nil
}

// get reads a role alias; ResourceNotFoundException if there is none.
func get(tx store.Tx, name string) (Alias, error) {
	var a Alias
	_, err := store.GetJSON(tx, Kind, name, &a)
	if errors.Is(err, store.ErrNotFound) {
		return Alias{}, awsapi.Errorf(awsapi.ResourceNotFound, "Role alias %s does not exist.", name)
	}
	if err != nil {
		return Alias{}, err
	}
	return a, nil
}

// object is the store object of a role alias, its value aside.
func (a Alias) object() store.Object {
	return store.Object{Kind: Kind, Key: a.Name, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// Create makes a role alias (CreateRoleAlias); durationSeconds 0 means
// DefaultDuration. An alias of that name is ResourceAlreadyExistsException.
func (s *Service) Create(ctx context.Context, name, roleARN string, durationSeconds int, ts []tags.Tag) (Alias, error) {
	if err := CheckName(name); err != nil {
		return Alias{}, err
	}
	if durationSeconds == 0 {
		durationSeconds = DefaultDuration
	}
	if err := checkDuration(durationSeconds); err != nil {
		return Alias{}, err
	}
	tm, err := tags.Check("tags", ts)
	if err != nil {
		return Alias{}, err
	}
	if err := s.checkRole(ctx, roleARN); err != nil {
		return Alias{}, err
	}
	now := s.now()
	a := Alias{Name: name, RoleARN: roleARN, DurationSeconds: durationSeconds, Owner: s.arns.Account, CreatedAt: now, UpdatedAt: now}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Object(Kind, name); err == nil {
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Role alias " + name + " already exists.", ResourceID: name, ResourceARN: s.ARN(name)}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		n, err := tx.CountObjects(Kind, "")
		if err != nil {
			return err
		}
		if n >= s.opts.Max {
			return awsapi.Errorf(awsapi.LimitExceeded, "The account already has the maximum of %d role aliases.", s.opts.Max)
		}
		if err := store.InsertJSON(tx, a.object(), a); err != nil {
			return err
		}
		return tags.Put(tx, s.ARN(name), tm)
	})
	return a, err
}

// Describe returns a role alias (DescribeRoleAlias).
func (s *Service) Describe(ctx context.Context, name string) (Alias, error) {
	if err := CheckName(name); err != nil {
		return Alias{}, err
	}
	var a Alias
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = get(tx, name)
		return err
	})
	return a, err
}

// Update changes a role alias's role (roleARN "" keeps it) and duration
// (0 keeps it) (UpdateRoleAlias).
func (s *Service) Update(ctx context.Context, name, roleARN string, durationSeconds int) (Alias, error) {
	if err := CheckName(name); err != nil {
		return Alias{}, err
	}
	if durationSeconds != 0 {
		if err := checkDuration(durationSeconds); err != nil {
			return Alias{}, err
		}
	}
	if roleARN != "" {
		if err := s.checkRole(ctx, roleARN); err != nil {
			return Alias{}, err
		}
	}
	var a Alias
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if a, err = get(tx, name); err != nil {
			return err
		}
		if roleARN != "" {
			a.RoleARN = roleARN
		}
		if durationSeconds != 0 {
			a.DurationSeconds = durationSeconds
		}
		a.UpdatedAt = s.now()
		return store.UpdateJSON(tx, a.object(), a)
	})
	return a, err
}

// Delete deletes a role alias and its tags (DeleteRoleAlias).
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := get(tx, name); err != nil {
			return err
		}
		if err := tx.DeleteObject(Kind, name); err != nil {
			return err
		}
		return tags.DeleteAll(tx, s.ARN(name))
	})
}

// List returns up to pageSize (1 to 250; 0 means 100) alias names in
// name order, ascending or not, after marker (the nextMarker of the
// previous page: the base64 of the last name it returned, as AWS's
// marker pattern allows). An account has at most Options.Max aliases,
// so the listing is made in memory.
func (s *Service) List(ctx context.Context, pageSize int, marker string, ascending bool) ([]string, string, error) {
	switch {
	case pageSize == 0:
		pageSize = 100
	case pageSize < 1 || pageSize > 250:
		return nil, "", awsapi.Errorf(awsapi.InvalidRequest, "pageSize must be 1 to 250, got %d.", pageSize)
	}
	var after string
	if marker != "" {
		var ok bool
		if after, ok = paging.After(marker); !ok || CheckName(after) != nil {
			return nil, "", awsapi.Errorf(awsapi.InvalidRequest, "The pagination token (marker) is not valid.")
		}
	}
	var all []string
	err := s.st.View(ctx, func(tx store.Tx) error {
		all = all[:0]
		for p := (store.Page{Limit: 250}); ; {
			objs, next, err := tx.ListObjects(Kind, "", p)
			if err != nil {
				return err
			}
			for _, o := range objs {
				all = append(all, o.Key)
			}
			if next == "" {
				return nil
			}
			p.After = next
		}
	})
	if err != nil {
		return nil, "", err
	}
	page, next := paging.Names(all, after, ascending, pageSize)
	return page, next, nil
}
