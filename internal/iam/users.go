package iam

import (
	"context"
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

// user is the User of a record.
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
		return []Change{{UserName: in.UserName}}, userRecords.create(tx, in.UserName, s.cfg.MaxUsers, now, func(id string) any {
			rec = userRecord{entityRecord{Name: in.UserName, ID: id, Path: path, CreatedAt: now, Tags: in.Tags}}
			return &rec
		})
	})
	if err != nil {
		return User{}, err
	}
	return s.user(&rec), nil
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, name string) (User, error) {
	var u User
	err := s.viewEntity(ctx, UserEntity, name, nil, func(_ store.Tx, e *entity) error {
		u = s.user(e.rec.(*userRecord))
		return nil
	})
	return u, err
}

// ListUsersInput is ListUsers' request.
type ListUsersInput struct {
	PathPrefix string // "" means "/"
	Page
}

// ListUsers lists users whose path starts with PathPrefix, ordered by
// name (case-insensitively).
func (s *Service) ListUsers(ctx context.Context, in ListUsersInput) ([]User, string, error) {
	prefix, max, err := checkListing(in.PathPrefix, in.Page)
	if err != nil {
		return nil, "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return nil, "", err
	}
	return listEntities(ctx, s, kindUser, prefix, in.Marker, max, s.user)
}

// DeleteUser deletes a user that has no access keys, inline policies or
// attached policies left (IAM refuses with DeleteConflict otherwise). The
// administrator cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	var refuse error
	if strings.EqualFold(name, auth.AdminUser) {
		refuse = errorf(UnmodifiableEntity, "The user %s is moat's administrator (the data dir's admin credentials) and cannot be deleted.", auth.AdminUser)
	}
	return s.updateEntity(ctx, UserEntity, name, refuse, func(tx store.Tx, _ time.Time, e *entity) ([]Change, error) {
		keys, _, err := tx.ListAccessKeys(e.Name, store.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			return nil, errorf(DeleteConflict, "Cannot delete entity, must delete access keys first.")
		}
		return e.delete(tx)
	})
}
