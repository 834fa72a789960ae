package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// TestAuthenticator_AccessKeyUser checks the user of an Active key is
// returned, an Inactive or deleted key is ErrAccessKeyNotActive, and the
// store is read even while the key is in the cache of looked-up keys (a
// key made Inactive without ForgetAccessKey is seen at once).
func TestAuthenticator_AccessKeyUser(t *testing.T) {
	e := newKeyCacheEnv(t)
	ctx := context.Background()
	const id = "AKIAKEYCACHE0000001"
	if got := e.call(t, id, "secret-one"); got != "alice" { // now cached
		t.Fatalf("SigV4 call: %q", got)
	}
	if user, err := e.a.AccessKeyUser(ctx, id); err != nil || user != "alice" {
		t.Fatalf("AccessKeyUser = %q, %v; want alice", user, err)
	}
	e.setStatus(t, id, "Inactive")
	if _, err := e.a.AccessKeyUser(ctx, id); !errors.Is(err, ErrAccessKeyNotActive) {
		t.Fatalf("Inactive key: %v, want ErrAccessKeyNotActive", err)
	}
	e.update(t, func(tx store.Tx) error { return tx.DeleteAccessKey(id) })
	if _, err := e.a.AccessKeyUser(ctx, id); !errors.Is(err, ErrAccessKeyNotActive) {
		t.Fatalf("deleted key: %v, want ErrAccessKeyNotActive", err)
	}
}
