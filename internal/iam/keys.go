package iam

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is a user's long-term access key. Secret is set only in
// CreateAccessKey's answer: it is shown once.
type AccessKey struct {
	UserName  string
	ID        string // AKIA...
	Secret    string
	Status    string // StatusActive or StatusInactive
	CreatedAt time.Time
}

// CreateAccessKey makes an access key for a user, who may have at most
// MaxAccessKeys. The secret is returned here and never again; the store
// keeps it only to verify signatures.
func (s *Service) CreateAccessKey(ctx context.Context, userName string) (AccessKey, error) {
	if err := checkName("userName", userName, maxNameLen); err != nil {
		return AccessKey{}, err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return AccessKey{}, err
	}
	var k store.AccessKey
	err := s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		var rec userRecord
		if err := s.getUser(tx, userName, &rec); err != nil {
			return nil, err
		}
		keys, _, err := tx.ListAccessKeys(rec.Name, store.Page{Limit: MaxAccessKeys + 1})
		if err != nil {
			return nil, err
		}
		if len(keys) >= MaxAccessKeys {
			return nil, errorf(LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeys)
		}
		id, secret, err := pki.NewAccessKey()
		if err != nil {
			return nil, err
		}
		k = store.AccessKey{ID: id, Secret: secret, UserName: rec.Name, Status: StatusActive, CreatedAt: now}
		return []Change{{UserName: rec.Name, AccessKeyID: id}}, tx.InsertAccessKey(k)
	})
	if err != nil {
		return AccessKey{}, err
	}
	return AccessKey{UserName: k.UserName, ID: k.ID, Secret: k.Secret, Status: k.Status, CreatedAt: k.CreatedAt}, nil
}

// ListAccessKeys lists a user's access keys, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, userName string, p Page) ([]AccessKey, string, error) {
	if err := checkName("userName", userName, maxNameLen); err != nil {
		return nil, "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return nil, "", err
	}
	var keys []store.AccessKey
	err := s.view(ctx, func(tx store.Tx) error {
		var rec userRecord
		if err := s.getUser(tx, userName, &rec); err != nil {
			return err
		}
		var err error
		keys, _, err = tx.ListAccessKeys(rec.Name, store.Page{Limit: 1000})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	slices.Sort(ids)
	page, next, err := pageNames(ids, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]AccessKey, 0, len(page))
	for _, id := range page {
		i := slices.IndexFunc(keys, func(k store.AccessKey) bool { return k.ID == id })
		k := keys[i]
		out = append(out, AccessKey{UserName: k.UserName, ID: k.ID, Status: k.Status, CreatedAt: k.CreatedAt})
	}
	return out, next, nil
}

// UpdateAccessKey sets a key's status to StatusActive or StatusInactive.
// An inactive key no longer authenticates (callers learn of the change
// through Config.OnChange). The admin's data-dir key cannot be made
// inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, userName, id, status string) error {
	if err := checkKeyRef(userName, id); err != nil {
		return err
	}
	if status != StatusActive && status != StatusInactive {
		return constraint("status", status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		k, err := s.userKey(tx, userName, id)
		if err != nil {
			return nil, err
		}
		if status == StatusInactive && s.protected(k) {
			return nil, protectedKey(k.ID)
		}
		if k.Status == status {
			return nil, nil
		}
		k.Status = status
		return []Change{{UserName: k.UserName, AccessKeyID: k.ID}}, tx.UpdateAccessKey(k)
	})
}

// DeleteAccessKey deletes a user's access key. The admin's data-dir key
// cannot be deleted.
func (s *Service) DeleteAccessKey(ctx context.Context, userName, id string) error {
	if err := checkKeyRef(userName, id); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		k, err := s.userKey(tx, userName, id)
		if err != nil {
			return nil, err
		}
		if s.protected(k) {
			return nil, protectedKey(k.ID)
		}
		return []Change{{UserName: k.UserName, AccessKeyID: k.ID}}, tx.DeleteAccessKey(k.ID)
	})
}

func checkKeyRef(userName, id string) error {
	if err := checkName("userName", userName, maxNameLen); err != nil {
		return err
	}
	return checkString("accessKeyId", id, 16, 128, accessKeyPattern)
}

// userKey reads an access key of a user; NoSuchEntity when the user or
// the key does not exist or the key belongs to someone else.
func (s *Service) userKey(tx store.Tx, userName, id string) (store.AccessKey, error) {
	var rec userRecord
	if err := s.getUser(tx, userName, &rec); err != nil {
		return store.AccessKey{}, err
	}
	k, err := tx.AccessKey(id)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.UserName != rec.Name {
		return store.AccessKey{}, errorf(NoSuchEntity, "The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// protected reports whether k is the data dir's admin key.
func (s *Service) protected(k store.AccessKey) bool {
	if !strings.EqualFold(k.UserName, auth.AdminUser) {
		return false
	}
	return s.cfg.AdminAccessKeyID == "" || k.ID == s.cfg.AdminAccessKeyID
}

func protectedKey(id string) *Error {
	return errorf(UnmodifiableEntity, "The access key %s is the administrator's key from the data dir (admin.credentials); it cannot be deactivated or deleted through the API, which would lock the operator out.", id)
}
