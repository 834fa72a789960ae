package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

// ErrAccessKeyNotActive: a long-term access key does not exist (any more)
// or is Inactive.
var ErrAccessKeyNotActive = errors.New("access key is not active")

// AccessKeyUser returns the user of long-term access key id if the key
// exists and is Active; otherwise the error wraps ErrAccessKeyNotActive.
// It reads the store, never the cache of looked-up keys, so that whoever
// re-checks a live connection authenticated by the key (MQTT over a
// presigned WebSocket URL) sees a key made Inactive or deleted at once.
func (a *Authenticator) AccessKeyUser(ctx context.Context, id string) (string, error) {
	var k store.AccessKey
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.AccessKey(id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("access key %s does not exist: %w", id, ErrAccessKeyNotActive)
	case err != nil:
		return "", err
	case k.Status != "Active":
		return "", fmt.Errorf("access key %s is %s: %w", id, k.Status, ErrAccessKeyNotActive)
	}
	return k.UserName, nil
}
