package wsmqtt

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestReplayCache checks that a signature is spent once until it expires,
// that expired entries make room, and that a full cache refuses rather
// than forgets.
func TestReplayCache(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newReplayCache(2)
	if err := c.use("a", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := c.use("a", now.Add(time.Hour), now.Add(30*time.Second)); !errors.Is(err, errReplayed) {
		t.Fatalf("second use: %v, want errReplayed", err)
	}
	if err := c.use("b", now.Add(2*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := c.use("c", now.Add(time.Hour), now.Add(30*time.Second)); !errors.Is(err, errReplayFull) {
		t.Fatalf("full: %v, want errReplayFull", err)
	}
	// At a's expiry it is forgotten (the verifier refuses its URL from
	// then on), which makes room for c; b is still spent.
	later := now.Add(time.Minute)
	if err := c.use("c", now.Add(time.Hour), later); err != nil {
		t.Fatalf("after a expired: %v", err)
	}
	if err := c.use("b", now.Add(time.Hour), later); !errors.Is(err, errReplayed) {
		t.Fatalf("b: %v, want errReplayed", err)
	}
	if n := c.len(); n != 2 {
		t.Fatalf("len %d, want 2", n)
	}
	if err := c.use("a", now.Add(2*time.Hour), later); !errors.Is(err, errReplayFull) {
		t.Fatalf("a again while full: %v, want errReplayFull", err)
	}
}

// TestReplayCache_Concurrent checks that of many concurrent uses of one
// signature exactly one succeeds.
func TestReplayCache_Concurrent(t *testing.T) {
	c := newReplayCache(1000)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 50 {
		wg.Go(func() {
			if c.use("same", now.Add(time.Minute), now) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
			_ = c.use(fmt.Sprint("other", i), now.Add(time.Minute), now)
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d uses succeeded, want 1", ok)
	}
	if n := c.len(); n != 51 {
		t.Fatalf("len %d, want 51", n)
	}
}

// BenchmarkReplayCache_Use measures spending a fresh signature in a cache
// that starts with 50,000 and holds about 10,000 more in flow (each
// expires 10,000 uses later).
func BenchmarkReplayCache_Use(b *testing.B) {
	c := newReplayCache(DefaultReplayCapacity)
	now := time.Now()
	for i := range DefaultReplayCapacity / 2 {
		_ = c.use(fmt.Sprintf("%064x", i), now.Add(time.Duration(i)*time.Millisecond), now)
	}
	sigs := make([]string, b.N)
	for i := range sigs {
		sigs[i] = fmt.Sprintf("%064x", DefaultReplayCapacity+i)
	}
	b.ResetTimer()
	for i := range b.N {
		t := now.Add(time.Duration(i) * time.Millisecond)
		if err := c.use(sigs[i], t.Add(10*time.Second), t); err != nil {
			b.Fatal(err)
		}
	}
}
