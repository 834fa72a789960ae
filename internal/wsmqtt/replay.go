package wsmqtt

import (
	"container/heap"
	"errors"
	"sync"
	"time"
)

// Replay protection for presigned URLs.
//
// A presigned URL is a bearer credential for as long as it is valid: from
// X-Amz-Date, for X-Amz-Expires seconds (or, without X-Amz-Expires, the
// 15 minutes of allowed clock skew). Anyone who sees one (a proxy log, a
// browser history) could open connections with it in that window. moat
// accepts each presigned URL's signature once: the replay cache remembers
// every signature that opened a connection until the URL expires, after
// which the verifier refuses the URL anyway. A client must presign a new
// URL for every connection, as the AWS IoT device SDKs do on each connect
// and reconnect.
//
// The cache is bounded (DefaultReplayCapacity entries, about 150 bytes
// each). When it is full of URLs that have not yet expired, new upgrades
// with presigned URLs are refused (HTTP 503) until entries expire: the
// cache fails closed rather than forgetting a signature that could then
// be replayed. Only callers with valid credentials can fill it. The cache
// is per node: in a cluster, a URL could be used once on each node.

// DefaultReplayCapacity is the number of presigned-URL signatures
// remembered at most (Options.ReplayCapacity).
const DefaultReplayCapacity = 100_000

// Replay cache refusals.
var (
	// errReplayed: the signature already opened a connection and its URL
	// has not expired.
	errReplayed = errors.New("this presigned URL was already used: presign a new URL for every connection")
	// errReplayFull: the cache holds its capacity of unexpired signatures.
	errReplayFull = errors.New("too many presigned URLs in use: try again later")
)

// replayCache remembers used signatures until their URLs expire. It is
// safe for concurrent use.
type replayCache struct {
	max int

	mu   sync.Mutex
	seen map[string]time.Time // signature -> expiry; guarded by mu
	byT  expiryHeap           // the same entries by expiry; guarded by mu
}

func newReplayCache(capacity int) *replayCache {
	return &replayCache{max: capacity, seen: make(map[string]time.Time)}
}

// use records that sig opened a connection and is spent until expires.
// It returns errReplayed if sig is already spent, errReplayFull if the
// cache has no room; in both cases nothing is recorded.
func (c *replayCache) use(sig string, expires, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.byT) > 0 && !c.byT[0].expires.After(now) {
		e := heap.Pop(&c.byT).(entry)
		if c.seen[e.sig].Equal(e.expires) {
			delete(c.seen, e.sig)
		}
	}
	if exp, ok := c.seen[sig]; ok && exp.After(now) {
		return errReplayed
	}
	if len(c.seen) >= c.max {
		return errReplayFull
	}
	c.seen[sig] = expires
	heap.Push(&c.byT, entry{sig: sig, expires: expires})
	return nil
}

// len is the number of signatures remembered.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// entry is one spent signature.
type entry struct {
	sig     string
	expires time.Time
}

// expiryHeap is a min-heap of entries by expiry (container/heap).
type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = entry{}
	*h = old[:len(old)-1]
	return e
}
