package iam

import (
	"cmp"
	"context"
	"errors"
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
	var k store.AccessKey
	err := s.updateEntity(ctx, UserEntity, userName, nil, func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		keys, _, err := tx.ListAccessKeys(e.Name, store.Page{Limit: MaxAccessKeys + 1})
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
		k = store.AccessKey{ID: id, Secret: secret, UserName: e.Name, Status: StatusActive, CreatedAt: now}
		return []Change{{UserName: e.Name, AccessKeyID: id}}, tx.InsertAccessKey(k)
	})
	if err != nil {
		return AccessKey{}, err
	}
	return AccessKey{UserName: k.UserName, ID: k.ID, Secret: k.Secret, Status: k.Status, CreatedAt: k.CreatedAt}, nil
}

// ListAccessKeys lists a user's access keys, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, userName string, p Page) ([]AccessKey, string, error) {
	var keys []store.AccessKey
	err := s.viewEntity(ctx, UserEntity, userName, nil, func(tx store.Tx, e *entity) error {
		var err error
		keys, _, err = tx.ListAccessKeys(e.Name, store.Page{Limit: 1000})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	page, next, err := pageSorted(keys, func(k store.AccessKey) string { return k.ID }, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]AccessKey, len(page))
	for i, k := range page {
		out[i] = AccessKey{UserName: k.UserName, ID: k.ID, Status: k.Status, CreatedAt: k.CreatedAt}
	}
	return out, next, nil
}

// UpdateAccessKey sets a key's status to StatusActive or StatusInactive.
// An inactive key no longer authenticates (callers learn of the change
// through Config.OnChange). The admin's data-dir key cannot be made
// inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, userName, id, status string) error {
	var refuse error
	if status != StatusActive && status != StatusInactive {
		refuse = constraint("status", status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	return s.updateKey(ctx, userName, id, refuse, func(tx store.Tx, k store.AccessKey) ([]Change, error) {
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
	return s.updateKey(ctx, userName, id, nil, func(tx store.Tx, k store.AccessKey) ([]Change, error) {
		if s.protected(k) {
			return nil, protectedKey(k.ID)
		}
		return []Change{{UserName: k.UserName, AccessKeyID: k.ID}}, tx.DeleteAccessKey(k.ID)
	})
}

// updateKey runs fn on an access key of a user in a store transaction,
// as updateEntity runs its fn on the user; refuse comes after the
// validation of the key id. The key is NoSuchEntity when it does not
// exist or belongs to someone else.
func (s *Service) updateKey(ctx context.Context, userName, id string, refuse error, fn func(tx store.Tx, k store.AccessKey) ([]Change, error)) error {
	refuse = cmp.Or(checkString("accessKeyId", id, 16, 128, accessKeyPattern), refuse)
	return s.updateEntity(ctx, UserEntity, userName, refuse, func(tx store.Tx, _ time.Time, e *entity) ([]Change, error) {
		k, err := tx.AccessKey(id)
		if errors.Is(err, store.ErrNotFound) || err == nil && k.UserName != e.Name {
			return nil, errorf(NoSuchEntity, "The Access Key with id %s cannot be found.", id)
		}
		if err != nil {
			return nil, err
		}
		return fn(tx, k)
	})
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
