package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// countingStore counts read transactions.
type countingStore struct {
	store.Store
	views atomic.Int64
}

func (s *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

type keyCacheEnv struct {
	st   *countingStore
	a    *Authenticator
	now  time.Time
	mu   sync.Mutex
	body []byte
}

func newKeyCacheEnv(t *testing.T) *keyCacheEnv {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &keyCacheEnv{st: &countingStore{Store: db}, now: time.Now(), body: []byte(`{}`)}
	e.a = New(e.st, "us-east-1", "123456789012")
	e.a.now = func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
	for _, k := range []store.AccessKey{
		{ID: "AKIAKEYCACHE0000001", Secret: "secret-one", UserName: "alice", Status: "Active"},
		{ID: "AKIAKEYCACHE0000002", Secret: "secret-two", UserName: "bob", Status: "Active"},
	} {
		e.update(t, func(tx store.Tx) error { return tx.InsertAccessKey(k) })
	}
	return e
}

func (e *keyCacheEnv) update(t *testing.T, fn func(store.Tx) error) {
	t.Helper()
	if err := e.st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func (e *keyCacheEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// call signs a request with id/secret and authenticates it; it returns the
// principal's user name or the AWS error code.
func (e *keyCacheEnv) call(t *testing.T, id, secret string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "https://127.0.0.1/things/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(e.body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "iot", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := e.a.SigV4(context.Background(), req, e.body, "iot")
	if err != nil {
		var ae *awsapi.Error
		if !errors.As(err, &ae) {
			t.Fatalf("SigV4: %v", err)
		}
		return string(ae.Code)
	}
	return p.UserName
}

func (e *keyCacheEnv) setStatus(t *testing.T, id, status string) {
	t.Helper()
	e.update(t, func(tx store.Tx) error { return tx.UpdateAccessKey(store.AccessKey{ID: id, Status: status}) })
}

func TestKeyCacheServesRepeatedRequests(t *testing.T) {
	e := newKeyCacheEnv(t)
	const id = "AKIAKEYCACHE0000001"
	if got := e.call(t, id, "secret-one"); got != "alice" {
		t.Fatalf("first call: %q, want alice", got)
	}
	v := e.st.views.Load()
	for range 5 {
		if got := e.call(t, id, "secret-one"); got != "alice" {
			t.Fatalf("cached call: %q, want alice", got)
		}
	}
	if d := e.st.views.Load() - v; d != 0 {
		t.Errorf("5 repeated requests read the store %d times, want 0 (cached)", d)
	}
	// A wrong secret still fails with the cached key: the signature is
	// checked on every request.
	if got := e.call(t, id, "secret-wrong"); got != "SignatureDoesNotMatch" && got != "InvalidSignatureException" {
		t.Errorf("wrong secret: %q, want a signature error", got)
	}
	// Another key is looked up on its own.
	if got := e.call(t, "AKIAKEYCACHE0000002", "secret-two"); got != "bob" {
		t.Errorf("second key: %q, want bob", got)
	}
}

func TestKeyCacheForgetAndExpiry(t *testing.T) {
	e := newKeyCacheEnv(t)
	const id = "AKIAKEYCACHE0000001"
	if got := e.call(t, id, "secret-one"); got != "alice" {
		t.Fatalf("first call: %q", got)
	}
	e.setStatus(t, id, "Inactive")
	// Within the TTL and not forgotten, the cached key still answers.
	if got := e.call(t, id, "secret-one"); got != "alice" {
		t.Fatalf("cached after deactivation: %q, want alice (cached)", got)
	}
	e.a.ForgetAccessKey(id)
	if got := e.call(t, id, "secret-one"); got != "UnrecognizedClientException" {
		t.Fatalf("after ForgetAccessKey: %q, want UnrecognizedClientException", got)
	}
	// Inactive keys are not cached: reactivated, the key works at once.
	e.setStatus(t, id, "Active")
	if got := e.call(t, id, "secret-one"); got != "alice" {
		t.Fatalf("reactivated: %q, want alice", got)
	}
	// Without ForgetAccessKey, a change takes effect once the entry expires.
	e.setStatus(t, id, "Inactive")
	e.advance(keyCacheTTL - time.Millisecond)
	if got := e.call(t, id, "secret-one"); got != "alice" {
		t.Fatalf("just before expiry: %q, want alice (cached)", got)
	}
	e.advance(time.Millisecond)
	if got := e.call(t, id, "secret-one"); got != "UnrecognizedClientException" {
		t.Fatalf("after expiry: %q, want UnrecognizedClientException", got)
	}
	// ForgetAccessKey("") drops every key.
	e.setStatus(t, id, "Active")
	if got := e.call(t, "AKIAKEYCACHE0000002", "secret-two"); got != "bob" {
		t.Fatal(got)
	}
	e.update(t, func(tx store.Tx) error { return tx.DeleteAccessKey("AKIAKEYCACHE0000002") })
	e.a.ForgetAccessKey("")
	if got := e.call(t, "AKIAKEYCACHE0000002", "secret-two"); got != "UnrecognizedClientException" {
		t.Fatalf("deleted key after ForgetAccessKey(\"\"): %q", got)
	}
}

func TestKeyCacheUnknownKeysNotCached(t *testing.T) {
	e := newKeyCacheEnv(t)
	for range 3 {
		if got := e.call(t, "AKIAKEYCACHEUNKNOWN", "x"); got != "UnrecognizedClientException" {
			t.Fatalf("unknown key: %q", got)
		}
	}
	if n := len(e.a.keys.m); n != 0 {
		t.Errorf("cache holds %d entries after unknown keys, want 0", n)
	}
}

// A lookup that read the store before a forget must not store what it read.
func TestKeyCachePutAfterForgetDropped(t *testing.T) {
	var c keyCache
	now := time.Now()
	gen := c.generation()
	c.forget("k") // the key changes while the lookup reads the old row
	c.put("k", cachedKey{secret: "old", expires: now.Add(time.Minute)}, gen)
	if _, ok := c.get("k", now); ok {
		t.Fatal("a value read before forget was cached")
	}
	c.put("k", cachedKey{secret: "new", expires: now.Add(time.Minute)}, c.generation())
	if k, ok := c.get("k", now); !ok || k.secret != "new" {
		t.Fatalf("get = %+v, %v", k, ok)
	}
}

func TestKeyCacheBounded(t *testing.T) {
	var c keyCache
	now := time.Now()
	for i := range keyCacheMax + 10 {
		c.put(string(rune('a'+i%26))+time.Duration(i).String(), cachedKey{expires: now.Add(time.Minute)}, c.generation())
	}
	if n := len(c.m); n > keyCacheMax {
		t.Fatalf("cache holds %d entries, want <= %d", n, keyCacheMax)
	}
}
