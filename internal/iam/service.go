package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/store"
)

// Minter issues temporary credentials; *auth.Authenticator is one.
type Minter interface {
	Mint(ctx context.Context, s auth.Session) (auth.Credentials, error)
}

// Default quotas (IAM's default account quotas).
const (
	DefaultMaxUsers    = 5000
	DefaultMaxRoles    = 1000
	DefaultMaxPolicies = 1500
	// DefaultCacheSize is how many users and roles IdentityPolicies keeps
	// compiled policies for.
	DefaultCacheSize = 4096
	// MaxAccessKeys is the number of access keys a user may have.
	MaxAccessKeys = 2
	// MaxAttached is the number of managed policies a user or role may
	// have attached.
	MaxAttached = 10
	// MaxVersions is the number of versions a managed policy may have.
	MaxVersions = 5
)

// Config configures a Service.
type Config struct {
	// Store holds users, roles, policies (store objects) and access keys.
	// Required.
	Store store.Store
	// Account is the 12-digit account id of the deployment, used in every
	// ARN. Required.
	Account string
	// Minter issues AssumeRole's temporary credentials; nil refuses
	// AssumeRole.
	Minter Minter
	// AdminAccessKeyID is the access key of the data dir's admin
	// credentials, which the API may neither deactivate nor delete. ""
	// protects every access key of the admin user.
	AdminAccessKeyID string
	// MaxUsers, MaxRoles and MaxPolicies cap how many users, roles and
	// customer managed policies may exist; 0 means the Default values.
	MaxUsers, MaxRoles, MaxPolicies int
	// CacheSize bounds IdentityPolicies' cache, in users and roles; 0
	// means DefaultCacheSize.
	CacheSize int
	// OnChange, if set, is called after every committed change, once per
	// change, with what changed: an access key (UserName and AccessKeyID:
	// call auth.Authenticator.ForgetAccessKey), a user's or role's
	// policies (UserName or RoleName; also set when the user or role is
	// deleted), or a managed policy's default version or existence
	// (PolicyARN: every user and role it is attached to is affected). It
	// runs on the request's goroutine and must not call back into the
	// Service synchronously with a long operation.
	OnChange func(Change)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Change names what a committed change touched; the fields that do not
// apply are "".
type Change struct {
	UserName    string
	RoleName    string
	AccessKeyID string
	PolicyARN   string
}

// Service is the IAM subset: users and their access keys, roles, inline
// and managed policies, STS AssumeRole, and the compiled identity
// policies every authorization decision of a user or role reads. It is
// safe for concurrent use.
type Service struct {
	cfg   Config
	now   func() time.Time
	cache policyCache
	// gen counts committed changes; IdentityPolicies' cache entries made
	// before the latest change are stale.
	gen atomic.Uint64

	adminOnce sync.Mutex
	adminDone atomic.Bool
}

// New returns a Service. It does no I/O; the administrator user is
// recorded on first use.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("iam: Config.Store is required")
	}
	if len(cfg.Account) != 12 || strings.Trim(cfg.Account, "0123456789") != "" {
		return nil, fmt.Errorf("iam: Config.Account %q is not a 12-digit account id", cfg.Account)
	}
	for _, v := range []*int{&cfg.MaxUsers, &cfg.MaxRoles, &cfg.MaxPolicies, &cfg.CacheSize} {
		if *v < 0 {
			return nil, errors.New("iam: Config limits must not be negative")
		}
	}
	if cfg.MaxUsers == 0 {
		cfg.MaxUsers = DefaultMaxUsers
	}
	if cfg.MaxRoles == 0 {
		cfg.MaxRoles = DefaultMaxRoles
	}
	if cfg.MaxPolicies == 0 {
		cfg.MaxPolicies = DefaultMaxPolicies
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	s := &Service{cfg: cfg, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.cache.max = cfg.CacheSize
	return s, nil
}

// Account is the account id of every ARN the service makes.
func (s *Service) Account() string { return s.cfg.Account }

// UserARN is the ARN of a user with the default path "/":
// arn:aws:iam::ACCOUNT:user/NAME. A user created with another path has
// that path in its ARN (User.ARN).
func (s *Service) UserARN(name string) string { return s.userARN("/", name) }

func (s *Service) userARN(path, name string) string {
	return "arn:aws:iam::" + s.cfg.Account + ":user" + path + name
}

// RoleARN is the ARN of a role with the default path "/".
func (s *Service) RoleARN(name string) string { return s.roleARN("/", name) }

func (s *Service) roleARN(path, name string) string {
	return "arn:aws:iam::" + s.cfg.Account + ":role" + path + name
}

func (s *Service) policyARN(path, name string) string {
	return "arn:aws:iam::" + s.cfg.Account + ":policy" + path + name
}

// RootARN is the account's root principal, arn:aws:iam::ACCOUNT:root.
func (s *Service) RootARN() string { return "arn:aws:iam::" + s.cfg.Account + ":root" }

// update runs fn in a store transaction and, once it committed, marks the
// compiled-policy cache stale and reports the changes fn returned.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx, now time.Time) ([]Change, error)) error {
	var changes []Change
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		changes, err = fn(tx, s.now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		s.gen.Add(1)
	}
	if s.cfg.OnChange != nil {
		for _, c := range changes {
			s.cfg.OnChange(c)
		}
	}
	return nil
}

func (s *Service) view(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.cfg.Store.View(ctx, fn)
}

// ensureAdmin records the administrator user (auth.AdminUser, path "/")
// if the store does not have it yet. It exists from the first start: the
// data dir's admin credentials are its access key.
func (s *Service) ensureAdmin(ctx context.Context) error {
	if s.adminDone.Load() {
		return nil
	}
	s.adminOnce.Lock()
	defer s.adminOnce.Unlock()
	if s.adminDone.Load() {
		return nil
	}
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Object(kindUser, key(auth.AdminUser))
		if !notFound(err) {
			return err
		}
		id, err := newID("AIDA")
		if err != nil {
			return err
		}
		now := s.now().UTC()
		return insertRecord(tx, kindUser, auth.AdminUser, &userRecord{entityRecord{Name: auth.AdminUser, ID: id, Path: "/", CreatedAt: now}}, now)
	})
	if err != nil {
		return fmt.Errorf("iam: record the administrator user: %w", err)
	}
	s.adminDone.Store(true)
	return nil
}

// Page selects a page of a listing: Marker is the previous answer's
// marker ("" for the first page), MaxItems the most items wanted (0: 100;
// 1 to 1000). A page may hold fewer items and still be truncated.
type Page struct {
	Marker   string
	MaxItems int
}

// invalidMarker is the answer to a marker no listing produced.
func invalidMarker() *Error {
	return errorf(InvalidInput, "The marker is not valid; pass the Marker of the previous answer.")
}

// listRecords pages over the records of a kind in key order, keeping
// those keep accepts, until max are found or the kind is exhausted. It
// reads at most maxScanPages store pages per call, so that a filter that
// matches little cannot make one call scan everything; the answer is then
// truncated with fewer items. The marker is the store's cursor.
func listRecords[T any](tx store.Tx, kind, marker string, max int, keep func(*T) bool) (out []T, next string, err error) {
	const maxScanPages = 16
	next = marker
	for range maxScanPages {
		objs, n, err := tx.ListObjects(kind, "", store.Page{After: next, Limit: max - len(out)})
		if errors.Is(err, store.ErrInvalidCursor) {
			return nil, "", invalidMarker()
		}
		if err != nil {
			return nil, "", err
		}
		for _, o := range objs {
			var r T
			if err := json.Unmarshal(o.Value, &r); err != nil {
				return nil, "", fmt.Errorf("iam: decode %s %q: %w", kind, o.Key, err)
			}
			if keep(&r) {
				out = append(out, r)
			}
		}
		next = n
		if next == "" || len(out) >= max {
			break
		}
	}
	return out, next, nil
}

// pageSorted sorts items by key and pages them in memory; the marker is
// the key of the last item returned.
func pageSorted[T any](items []T, key func(T) string, p Page) ([]T, string, error) {
	max, err := checkPage(p)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	start := 0
	if p.Marker != "" {
		start = len(items)
		for i, it := range items {
			if key(it) > p.Marker {
				start = i
				break
			}
		}
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = key(items[end-1])
	}
	return items[start:end], next, nil
}

// pageSlice pages a short list in memory; the marker is the index of the
// next item.
func pageSlice[T any](items []T, p Page) ([]T, string, error) {
	max, err := checkPage(p)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if p.Marker != "" {
		n, err := strconv.Atoi(p.Marker)
		if err != nil || n < 0 || n > len(items) || strconv.Itoa(n) != p.Marker {
			return nil, "", invalidMarker()
		}
		start = n
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// PolicyARN is the ARN of a customer managed policy:
// arn:aws:iam::ACCOUNT:policy{path}NAME ("" path means "/").
func (s *Service) PolicyARN(path, name string) string {
	if path == "" {
		path = "/"
	}
	return s.policyARN(path, name)
}

// EntityARN is the ARN of a user or role, with its path when it exists
// and with the default path "/" when it does not (or cannot be read): the
// resource an authorization decision about it names.
func (s *Service) EntityARN(ctx context.Context, typ EntityType, name string) string {
	path := "/"
	_ = s.view(ctx, func(tx store.Tx) error {
		e, err := s.loadEntity(tx, typ, name)
		if err == nil {
			path, name = e.Path, e.Name
		}
		return err
	})
	if typ == RoleEntity {
		return s.roleARN(path, name)
	}
	return s.userARN(path, name)
}
