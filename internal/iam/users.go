package iam

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/store"
)

// User is an IAM user.
type User struct {
	Name      string
	ID        string // AIDA...
	Path      string // "/" or "/a/b/"
	ARN       string // arn:aws:iam::ACCOUNT:user{Path}{Name}
	CreatedAt time.Time
	Tags      []Tag
}

func (s *Service) user(r *userRecord) User {
	return User{Name: r.Name, ID: r.ID, Path: r.Path, ARN: s.userARN(r.Path, r.Name), CreatedAt: r.CreatedAt, Tags: r.Tags}
}

// CreateUserInput is CreateUser's request.
type CreateUserInput struct {
	UserName string
	Path     string // "" means "/"
	Tags     []Tag
}

// CreateUser creates a user with no access keys and no permissions.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (User, error) {
	if err := checkName("userName", in.UserName, maxNewNameLen); err != nil {
		return User{}, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return User{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return User{}, err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return User{}, err
	}
	var rec userRecord
	err = s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		n, err := tx.CountObjects(kindUser, "")
		if err != nil {
			return nil, err
		}
		if n >= s.cfg.MaxUsers {
			return nil, errorf(LimitExceeded, "Cannot exceed quota for UsersPerAccount: %d", s.cfg.MaxUsers)
		}
		id, err := newID("AIDA")
		if err != nil {
			return nil, err
		}
		rec = userRecord{Name: in.UserName, ID: id, Path: path, CreatedAt: now, Tags: in.Tags}
		err = insertRecord(tx, kindUser, in.UserName, &rec, now)
		if errors.Is(err, store.ErrExists) {
			return nil, errorf(EntityAlreadyExists, "User with name %s already exists.", in.UserName)
		}
		return []Change{{UserName: in.UserName}}, err
	})
	if err != nil {
		return User{}, err
	}
	return s.user(&rec), nil
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, name string) (User, error) {
	if err := checkName("userName", name, maxNameLen); err != nil {
		return User{}, err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return User{}, err
	}
	var rec userRecord
	err := s.view(ctx, func(tx store.Tx) error { return s.getUser(tx, name, &rec) })
	if err != nil {
		return User{}, err
	}
	return s.user(&rec), nil
}

// getUser reads a user record; NoSuchEntity when there is none.
func (s *Service) getUser(tx store.Tx, name string, rec *userRecord) error {
	err := getRecord(tx, kindUser, name, rec)
	if notFound(err) {
		return errorf(NoSuchEntity, "The user with name %s cannot be found.", name)
	}
	return err
}

// ListUsersInput is ListUsers' request.
type ListUsersInput struct {
	PathPrefix string // "" means "/"
	Page
}

// ListUsers lists users whose path starts with PathPrefix, ordered by
// name (case-insensitively).
func (s *Service) ListUsers(ctx context.Context, in ListUsersInput) ([]User, string, error) {
	prefix, err := checkPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, "", err
	}
	max, err := checkPage(in.Page)
	if err != nil {
		return nil, "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return nil, "", err
	}
	var recs []userRecord
	var next string
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		recs, next, err = listRecords(tx, kindUser, in.Marker, max, func(r *userRecord) bool {
			return strings.HasPrefix(r.Path, prefix)
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	users := make([]User, len(recs))
	for i := range recs {
		users[i] = s.user(&recs[i])
	}
	return users, next, nil
}

// DeleteUser deletes a user that has no access keys, inline policies or
// attached policies left (IAM refuses with DeleteConflict otherwise). The
// administrator cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	if err := checkName("userName", name, maxNameLen); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	if strings.EqualFold(name, auth.AdminUser) {
		return errorf(UnmodifiableEntity, "The user %s is moat's administrator (the data dir's admin credentials) and cannot be deleted.", auth.AdminUser)
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		var rec userRecord
		if err := s.getUser(tx, name, &rec); err != nil {
			return nil, err
		}
		keys, _, err := tx.ListAccessKeys(rec.Name, store.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		switch {
		case len(keys) > 0:
			return nil, errorf(DeleteConflict, "Cannot delete entity, must delete access keys first.")
		case len(rec.Inline) > 0:
			return nil, errorf(DeleteConflict, "Cannot delete entity, must delete policies first.")
		case len(rec.Attached) > 0:
			return nil, errorf(DeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		return []Change{{UserName: rec.Name}}, tx.DeleteObject(kindUser, key(name))
	})
}
