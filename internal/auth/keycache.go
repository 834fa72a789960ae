package auth

import (
	"sync"
	"time"
)

// Access key cache. Every SigV4 request needs its access key's secret; read
// from the store that is one read transaction per API call (about a fifth
// of the server's CPU time for a DescribeThing). The Authenticator keeps
// the active keys it has looked up, by id, for at most keyCacheTTL, so a
// change to a key made without ForgetAccessKey (another process writing
// the store) takes effect within that time. Only active keys are cached:
// an unknown or inactive key goes to the store every time, so requests
// with made-up ids cannot fill the cache. Secrets are never compared here:
// the signature computed from the secret is compared with hmac.Equal by
// internal/auth/sigv4.
const (
	keyCacheTTL = 5 * time.Second
	keyCacheMax = 4096 // entries; the cache is emptied when it is full
)

type cachedKey struct {
	secret, user string
	expires      time.Time
}

type keyCache struct {
	mu  sync.RWMutex
	m   map[string]cachedKey
	gen uint64 // incremented by forget: a lookup that began before does not store
}

// get returns the cached key id if it has not expired.
func (c *keyCache) get(id string, now time.Time) (cachedKey, bool) {
	c.mu.RLock()
	k, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !now.Before(k.expires) {
		return cachedKey{}, false
	}
	return k, true
}

// generation returns the value to pass to put for a lookup starting now.
func (c *keyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores a key read from the store, unless forget ran since the read
// began (gen is generation's value before the read): the value read may
// then be the one forget was meant to drop.
func (c *keyCache) put(id string, k cachedKey, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= keyCacheMax {
		c.m = make(map[string]cachedKey)
	}
	c.m[id] = k
}

// forget drops id, or every key when id is "".
func (c *keyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if id == "" {
		c.m = nil
		return
	}
	delete(c.m, id)
}
