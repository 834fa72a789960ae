package access

import (
	"sync"
	"testing"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/policy"
)

// fakeSink records what it is given.
type fakeSink struct {
	allows  bool
	mu      sync.Mutex
	counts  map[string]int
	entries []decisionlog.Entry
}

func (f *fakeSink) Allows() bool { return f.allows }

func (f *fakeSink) Count(action string, r policy.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	f.counts[action+" "+r.String()]++
}

func (f *fakeSink) Decision(e decisionlog.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, e)
}

// TestPermissions_AllowRecords checks every decision is counted, cached
// or not; every deny is logged with its deciding statement (cached denies
// too); allows are logged only when the sink asks for them.
func TestPermissions_AllowRecords(t *testing.T) {
	for _, allows := range []bool{false, true} {
		sink := &fakeSink{allows: allows}
		p := perms(t, "lamp-1", "lamp-1")
		p.clientID, p.sink, p.logAllows = "lamp-1", sink, allows
		for range 2 { // uncached, then cached
			p.Allow(broker.ActPublish, "lamp-1/state")  // allowed by statement 1
			p.Allow(broker.ActPublish, "lamp-1/secret") // denied by statement 3
			p.Allow(broker.ActPublish, "lamp-2/state")  // no statement matches
		}
		want := map[string]int{"iot:Publish ALLOWED": 2, "iot:Publish EXPLICIT_DENY": 2, "iot:Publish IMPLICIT_DENY": 2}
		for k, n := range want {
			if sink.counts[k] != n {
				t.Fatalf("allows=%v: counts %v, want %v", allows, sink.counts, want)
			}
		}
		var got []string
		for _, e := range sink.entries {
			got = append(got, e.Result.String())
			if e.ClientID != "lamp-1" || e.Thing != "lamp-1" || e.Action != "iot:Publish" {
				t.Fatalf("entry %+v", e)
			}
			switch e.Result {
			case policy.ExplicitDeny:
				if e.Policy != "seed" || e.PolicyVersion != "1" || e.Statement != 3 ||
					e.Resource != "arn:aws:iot:us-east-1:000000000000:topic/lamp-1/secret" || len(e.Vars) != 1 {
					t.Fatalf("explicit deny entry %+v", e)
				}
			case policy.ImplicitDeny:
				if e.Policy != "" || e.Statement != -1 {
					t.Fatalf("implicit deny entry %+v", e)
				}
			case policy.Allowed:
				if e.Statement != 1 {
					t.Fatalf("allow entry %+v", e)
				}
			}
		}
		n := 4
		if allows {
			n = 6
		}
		if len(got) != n {
			t.Fatalf("allows=%v: logged %v, want %d entries", allows, got, n)
		}
	}
}

// BenchmarkPermissions_AllowWithSink measures a cached allow when a
// decision sink is set but allows are not logged: a count, no allocation.
func BenchmarkPermissions_AllowWithSink(b *testing.B) {
	l, err := decisionlog.Open(b.TempDir()+"/d.log", decisionlog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	p := perms(b, "lamp-1", "lamp-1")
	p.sink = l
	p.Allow(broker.ActPublish, "lamp-1/state")
	b.ReportAllocs()
	for b.Loop() {
		if !p.Allow(broker.ActPublish, "lamp-1/state") {
			b.Fatal("denied")
		}
	}
}
