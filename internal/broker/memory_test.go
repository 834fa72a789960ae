package broker

import (
	"context"
	"testing"
	"time"
)

type refuseAll struct{}

func (refuseAll) Admit(context.Context, ConnInfo) (Permissions, *Refusal) {
	return nil, &Refusal{}
}

// TestMemoryRelease checks that a burst of releaseAfter connections is
// followed, once quiet, by one release, and that fewer connections, or
// none since the last release, cause none.
func TestMemoryRelease(t *testing.T) {
	b, err := New(Options{Limits: DefaultLimits(), Gate: refuseAll{}})
	if err != nil {
		t.Fatal(err)
	}
	for range releaseAfter - 1 {
		b.connAccepted()
	}
	time.Sleep(releaseCheck + releaseCheck/2)
	if n := b.mem.releases.Load(); n != 0 {
		t.Fatalf("%d releases after %d connections, want 0", n, releaseAfter-1)
	}
	b.connAccepted() // the burst reaches releaseAfter
	deadline := time.Now().Add(5 * releaseCheck)
	for b.mem.releases.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no release after the burst")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * releaseCheck)
	if n := b.mem.releases.Load(); n != 1 {
		t.Fatalf("%d releases, want 1", n)
	}
	_ = b.Shutdown(context.Background())
}
