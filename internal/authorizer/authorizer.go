package authorizer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/paging"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Status is an authorizer's status.
type Status string

// Authorizer statuses (the AuthorizerStatus enum).
const (
	Active   Status = "ACTIVE"
	Inactive Status = "INACTIVE"
)

func (s Status) String() string { return string(s) }

// Authorizer is a custom authorizer as DescribeAuthorizer shows it.
type Authorizer struct {
	Name string `json:"name"`
	// ARN is arn:aws:iot:REGION:ACCOUNT:authorizer/NAME (not stored).
	ARN string `json:"-"`
	// FunctionARN is the function: an http(s) URL, or a Lambda ARN that
	// moat keeps but cannot call.
	FunctionARN string `json:"functionArn"`
	// TokenKeyName is where the token is found; "" when none was given
	// (only allowed with signing disabled).
	TokenKeyName string `json:"tokenKeyName,omitempty"`
	// SigningKeys maps a key name to an RSA public key in PEM, as given.
	SigningKeys          map[string]string `json:"tokenSigningPublicKeys,omitempty"`
	Status               Status            `json:"status"`
	SigningDisabled      bool              `json:"signingDisabled,omitempty"`
	EnableCachingForHTTP bool              `json:"enableCachingForHttp,omitempty"`
	// CreatedAt and UpdatedAt come from the store object (not stored in
	// the value).
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// Config is what CreateAuthorizer sets.
type Config struct {
	FunctionARN          string
	TokenKeyName         string
	SigningKeys          map[string]string
	Status               Status // "" means ACTIVE
	SigningDisabled      bool
	EnableCachingForHTTP bool
	// Tags were checked by tags.Check.
	Tags map[string]string
}

// Update is what UpdateAuthorizer changes; a nil or empty member is left
// as it is. SigningDisabled cannot change (AWS: "You can't update an
// authorizer's signing requirement").
type Update struct {
	FunctionARN          *string
	TokenKeyName         *string
	SigningKeys          map[string]string // replaces all keys when non-nil
	Status               Status
	EnableCachingForHTTP *bool
}

// ListQuery selects a page of ListAuthorizers.
type ListQuery struct {
	Status    Status // "" means every status
	Ascending bool
	// Marker is a previous page's next marker; "" starts at the beginning.
	Marker   string
	PageSize int // 0 means 250
}

// decode is the authorizer of a store object: its JSON value, with the
// name, ARN and times that are not in the value.
func (s *Service) decode(o store.Object) (Authorizer, error) {
	var a Authorizer
	if err := store.DecodeJSON(o, &a); err != nil {
		return a, err
	}
	a.Name = o.Key
	a.ARN = s.ARN(o.Key)
	a.CreatedAt, a.UpdatedAt = o.CreatedAt, o.UpdatedAt
	return a, nil
}

func (s *Service) notFound(name string) error {
	return awsapi.Errorf(awsapi.ResourceNotFound, "Authorizer %s does not exist.", name)
}

// read returns an authorizer inside tx; ResourceNotFoundException if
// there is none.
func (s *Service) read(tx store.Tx, name string) (Authorizer, store.Object, error) {
	o, err := tx.Object(Kind, name)
	if errors.Is(err, store.ErrNotFound) {
		return Authorizer{}, o, s.notFound(name)
	}
	if err != nil {
		return Authorizer{}, o, err
	}
	a, err := s.decode(o)
	return a, o, err
}

// all returns every authorizer inside tx, ordered by name.
func (s *Service) all(tx store.Tx) ([]Authorizer, error) {
	var out []Authorizer
	after := ""
	for {
		objs, next, err := tx.ListObjects(Kind, "", store.Page{After: after, Limit: 250})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			a, err := s.decode(o)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// checkQuota refuses to have one more authorizer (add) and one more
// ACTIVE one (activate) than the options allow.
func (s *Service) checkQuota(tx store.Tx, add, activate bool) error {
	if add {
		n, err := tx.CountObjects(Kind, "")
		if err != nil {
			return err
		}
		if n >= s.opts.MaxAuthorizers {
			return awsapi.Errorf(awsapi.LimitExceeded, "There are %d authorizers; at most %d are allowed.", n, s.opts.MaxAuthorizers)
		}
	}
	if !activate {
		return nil
	}
	all, err := s.all(tx)
	if err != nil {
		return err
	}
	active := 0
	for _, a := range all {
		if a.Status == Active {
			active++
		}
	}
	if active >= s.opts.MaxActive {
		return awsapi.Errorf(awsapi.LimitExceeded, "There are %d ACTIVE authorizers; at most %d may be ACTIVE at once.", active, s.opts.MaxActive)
	}
	return nil
}

// Create stores a new authorizer (CreateAuthorizer): InvalidRequestException
// for a bad name or configuration, ResourceAlreadyExistsException for a
// name in use, LimitExceededException beyond the quotas.
func (s *Service) Create(ctx context.Context, name string, c Config) (Authorizer, error) {
	if err := CheckName("authorizerName", name); err != nil {
		return Authorizer{}, err
	}
	if c.Status == "" {
		c.Status = Active
	}
	a := Authorizer{
		Name: name, ARN: s.ARN(name), FunctionARN: c.FunctionARN, TokenKeyName: c.TokenKeyName,
		SigningKeys: c.SigningKeys, Status: c.Status, SigningDisabled: c.SigningDisabled,
		EnableCachingForHTTP: c.EnableCachingForHTTP,
	}
	if err := s.check(&a); err != nil {
		return Authorizer{}, err
	}
	now := s.stamp()
	a.CreatedAt, a.UpdatedAt = now, now
	err := s.st.Update(ctx, func(tx store.Tx) error {
		exists := awsapi.Errorf(awsapi.ResourceAlreadyExists, "Authorizer %s already exists.", name)
		exists.ResourceID, exists.ResourceARN = name, a.ARN
		if _, err := tx.Object(Kind, name); err == nil {
			return exists
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := s.checkQuota(tx, true, a.Status == Active); err != nil {
			return err
		}
		err := store.InsertJSON(tx, store.Object{Kind: Kind, Key: name, CreatedAt: now, UpdatedAt: now}, a)
		if errors.Is(err, store.ErrExists) {
			return exists
		}
		if err != nil {
			return err
		}
		return tags.Put(tx, a.ARN, c.Tags)
	})
	if err != nil {
		return Authorizer{}, err
	}
	return a, nil
}

// Get returns an authorizer (DescribeAuthorizer); ResourceNotFoundException
// if there is none.
func (s *Service) Get(ctx context.Context, name string) (Authorizer, error) {
	if err := CheckName("authorizerName", name); err != nil {
		return Authorizer{}, err
	}
	var a Authorizer
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		a, _, err = s.read(tx, name)
		return err
	})
	return a, err
}

// Update changes an authorizer (UpdateAuthorizer). The result is checked as
// Create checks a new one; LimitExceededException when it would make one
// ACTIVE authorizer too many. OnChange is called with its name.
func (s *Service) Update(ctx context.Context, name string, u Update) (Authorizer, error) {
	if err := CheckName("authorizerName", name); err != nil {
		return Authorizer{}, err
	}
	var a Authorizer
	err := s.st.Update(ctx, func(tx store.Tx) error {
		cur, o, err := s.read(tx, name)
		if err != nil {
			return err
		}
		a = cur
		if u.FunctionARN != nil {
			a.FunctionARN = *u.FunctionARN
		}
		if u.TokenKeyName != nil {
			a.TokenKeyName = *u.TokenKeyName
		}
		if u.SigningKeys != nil {
			a.SigningKeys = u.SigningKeys
		}
		if u.Status != "" {
			a.Status = u.Status
		}
		if u.EnableCachingForHTTP != nil {
			a.EnableCachingForHTTP = *u.EnableCachingForHTTP
		}
		if err := s.check(&a); err != nil {
			return err
		}
		if a.Status == Active && cur.Status != Active {
			if err := s.checkQuota(tx, false, true); err != nil {
				return err
			}
		}
		a.UpdatedAt = s.stamp()
		return store.UpdateJSON(tx, store.Object{Kind: Kind, Key: name, Version: o.Version, UpdatedAt: a.UpdatedAt}, a)
	})
	if err != nil {
		return Authorizer{}, err
	}
	s.changed(name)
	return a, nil
}

// Delete removes an authorizer and its tags (DeleteAuthorizer).
// DeleteConflictException while it is ACTIVE (AWS requires making it
// INACTIVE first) or the default authorizer. OnChange is called with its
// name.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := CheckName("authorizerName", name); err != nil {
		return err
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		a, _, err := s.read(tx, name)
		if err != nil {
			return err
		}
		if a.Status == Active {
			return awsapi.Errorf(awsapi.DeleteConflict, "Authorizer %s is ACTIVE; make it INACTIVE with UpdateAuthorizer before deleting it.", name)
		}
		def, err := defaultName(tx)
		if err != nil {
			return err
		}
		if def == name {
			return awsapi.Errorf(awsapi.DeleteConflict, "Authorizer %s is the default authorizer; clear it with ClearDefaultAuthorizer before deleting it.", name)
		}
		if err := tx.DeleteObject(Kind, name); err != nil {
			return err
		}
		return tags.DeleteAll(tx, a.ARN)
	})
	if err != nil {
		return err
	}
	s.changed(name)
	return nil
}

// List returns a page of authorizers ordered by name (ListAuthorizers) and
// the marker of the next page ("" after the last). A marker that no
// listing produced is store.ErrInvalidCursor.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Authorizer, string, error) {
	after := ""
	if q.Marker != "" {
		var ok bool
		if after, ok = paging.After(q.Marker); !ok || CheckName("marker", after) != nil {
			return nil, "", fmt.Errorf("authorizer marker: %w", store.ErrInvalidCursor)
		}
	}
	size := q.PageSize
	if size <= 0 || size > 250 {
		size = 250
	}
	var all []Authorizer
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		all, err = s.all(tx)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if q.Status != "" {
		all = slices.DeleteFunc(all, func(a Authorizer) bool { return a.Status != q.Status })
	}
	page, next := paging.Page(all, func(a Authorizer) string { return a.Name }, after, q.Ascending, size)
	return page, next, nil
}

// defaultName is the default authorizer's name inside tx; "" if none.
func defaultName(tx store.Tx) (string, error) {
	var d defaultRecord
	_, err := store.GetJSON(tx, DefaultKind, defaultKey, &d)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return d.Name, nil
}

type defaultRecord struct {
	Name string `json:"name"`
}

// SetDefault makes an existing authorizer the default
// (SetDefaultAuthorizer): ResourceNotFoundException if it does not exist,
// ResourceAlreadyExistsException if another authorizer is the default
// (clear it first). Setting the default it already is changes nothing.
// OnChange is called with the new default's name.
func (s *Service) SetDefault(ctx context.Context, name string) (Authorizer, error) {
	if err := CheckName("authorizerName", name); err != nil {
		return Authorizer{}, err
	}
	var a Authorizer
	same := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if a, _, err = s.read(tx, name); err != nil {
			return err
		}
		cur, err := defaultName(tx)
		if err != nil {
			return err
		}
		switch cur {
		case name:
			same = true
			return nil
		case "":
		default:
			e := awsapi.Errorf(awsapi.ResourceAlreadyExists, "Authorizer %s is the default authorizer; clear it with ClearDefaultAuthorizer before setting another.", cur)
			e.ResourceID, e.ResourceARN = cur, s.ARN(cur)
			return e
		}
		now := s.stamp()
		return store.InsertJSON(tx, store.Object{Kind: DefaultKind, Key: defaultKey, CreatedAt: now, UpdatedAt: now}, defaultRecord{Name: name})
	})
	if err != nil {
		return Authorizer{}, err
	}
	if !same {
		s.changed(name)
	}
	return a, nil
}

// Default returns the default authorizer (DescribeDefaultAuthorizer);
// ResourceNotFoundException if none is set.
func (s *Service) Default(ctx context.Context) (Authorizer, error) {
	var a Authorizer
	err := s.st.View(ctx, func(tx store.Tx) error {
		name, err := defaultName(tx)
		if err != nil {
			return err
		}
		if name == "" {
			return awsapi.Errorf(awsapi.ResourceNotFound, "No default authorizer is set.")
		}
		a, _, err = s.read(tx, name)
		return err
	})
	return a, err
}

// ClearDefault unsets the default authorizer (ClearDefaultAuthorizer);
// ResourceNotFoundException if none is set. OnChange is called with the
// previous default's name.
func (s *Service) ClearDefault(ctx context.Context) error {
	var old string
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if old, err = defaultName(tx); err != nil {
			return err
		}
		if old == "" {
			return awsapi.Errorf(awsapi.ResourceNotFound, "No default authorizer is set.")
		}
		return tx.DeleteObject(DefaultKind, defaultKey)
	})
	if err != nil {
		return err
	}
	s.changed(old)
	return nil
}

// lookup resolves the authorizer a request names ("" means the default)
// for an invocation: ErrNoAuthorizer, ErrUnknownAuthorizer.
func (s *Service) lookup(ctx context.Context, name string) (Authorizer, error) {
	if name != "" && CheckName("", name) != nil {
		return Authorizer{}, refusal(ErrUnknownAuthorizer, "%q is not a valid authorizer name", truncate(name, 130))
	}
	var a Authorizer
	err := s.st.View(ctx, func(tx store.Tx) error {
		n := name
		if n == "" {
			var err error
			if n, err = defaultName(tx); err != nil {
				return err
			}
			if n == "" {
				return ErrNoAuthorizer
			}
		}
		var err error
		a, _, err = s.read(tx, n)
		if awsapi.Is(err, awsapi.ResourceNotFound) {
			return refusal(ErrUnknownAuthorizer, "authorizer %s does not exist", n)
		}
		return err
	})
	return a, err
}

// truncate shortens s for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// stamp is the time of a change, at the store's precision (microseconds),
// so that what Create and Update return equals what Get reads back.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
