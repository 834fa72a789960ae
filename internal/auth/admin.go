package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// EnsureAdmin makes sure the administrator's access key exists both in the
// store and in the shared-credentials file at path (0600). On first start it
// creates a fresh key; later starts reuse the file. If the file exists but
// its key is missing from the store (a new database), the key is recorded
// again. It returns the access key id and whether it was created now.
func EnsureAdmin(ctx context.Context, st store.Store, path string) (keyID string, created bool, err error) {
	id, secret, err := pki.ReadSharedCredentials(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		id, secret, err = pki.NewAccessKey()
		if err != nil {
			return "", false, err
		}
		created = true
	case err != nil:
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		k, err := tx.AccessKey(id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return tx.InsertAccessKey(store.AccessKey{ID: id, Secret: secret, UserName: AdminUser, Status: "Active", CreatedAt: time.Now().UTC()})
		case err != nil:
			return err
		case k.UserName != AdminUser || subtle.ConstantTimeCompare([]byte(k.Secret), []byte(secret)) != 1:
			return fmt.Errorf("access key %s in %s does not match the store's admin key", id, path)
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	if created {
		// Written after the key is durable in the store, so that a crash in
		// between leaves no file whose key the store does not know.
		if err := pki.WriteSharedCredentials(path, id, secret); err != nil {
			return "", false, err
		}
	}
	return id, created, nil
}
