package topic

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

type testVal struct {
	qos byte
	id  uint32
}

func TestTrie_MatchCases(t *testing.T) {
	for _, tt := range matchCases {
		if strings.HasPrefix(tt.filter, SharePrefix) {
			continue // the trie reads $share/ as shared; covered below
		}
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []*Options{DefaultOptions(), AWSOptions()} {
				want := tt.spec
				if !opts.ParentMatch {
					want = tt.aws
				}
				tr := NewTrie[string, int](opts)
				if _, err := tr.Insert(tt.filter, "c1", 1); err != nil {
					t.Fatalf("Insert(%q): %v", tt.filter, err)
				}
				if _, err := tr.Insert("$share/g/"+tt.filter, "c2", 2); err != nil {
					t.Fatalf("Insert shared: %v", err)
				}
				var r Result[string, int]
				tr.Match(tt.topic, &r)
				// The ordinary and the shared subscription agree with Match.
				if got := len(r.Subs) == 1; got != want {
					t.Fatalf("ParentMatch=%v: trie matched %q with %q: %v, want %v", opts.ParentMatch, tt.filter, tt.topic, got, want)
				}
				if got := len(r.Groups) == 1; got != want {
					t.Fatalf("ParentMatch=%v: shared group matched %v, want %v", opts.ParentMatch, got, want)
				}
			}
		})
	}
}

func TestTrie_InsertRemove(t *testing.T) {
	tr := NewTrie[string, testVal](nil)
	mustInsert := func(filter, key string, v testVal, wantExisted bool) {
		t.Helper()
		existed, err := tr.Insert(filter, key, v)
		if err != nil || existed != wantExisted {
			t.Fatalf("Insert(%q, %q) = %v, %v; want existed %v", filter, key, existed, err, wantExisted)
		}
	}
	wantStats := func(subs, filters int) {
		t.Helper()
		if s := tr.Stats(); s.Subscriptions != subs || s.Filters != filters || tr.Len() != subs {
			t.Fatalf("Stats = %+v, want %d subscriptions, %d filters", s, subs, filters)
		}
	}
	var r Result[string, testVal]

	// A new subscription.
	mustInsert("a/+", "c1", testVal{qos: 0}, false)
	// The same key on the same filter replaces the value.
	mustInsert("a/+", "c1", testVal{qos: 1}, true)
	wantStats(1, 1)
	tr.Match("a/b", &r)
	if len(r.Subs) != 1 || r.Subs[0].Value.qos != 1 {
		t.Fatalf("after replace: %+v", r.Subs)
	}
	// Another key on the same filter.
	mustInsert("a/+", "c2", testVal{}, false)
	// The same key on another filter.
	mustInsert("a/#", "c1", testVal{}, false)
	// A shared group, a second member, and a replace.
	mustInsert("$share/g/a/+", "c3", testVal{}, false)
	mustInsert("$share/g/a/+", "c4", testVal{}, false)
	mustInsert("$share/g/a/+", "c4", testVal{qos: 1}, true)
	// A second group on the same filter is a separate filter.
	mustInsert("$share/h/a/+", "c3", testVal{}, false)
	wantStats(6, 4)

	tr.Match("a/b", &r)
	if len(r.Subs) != 3 || len(r.Groups) != 2 {
		t.Fatalf("Match(a/b) = %+v", r)
	}
	// An invalid filter is rejected and changes nothing.
	if _, err := tr.Insert("a/#/b", "c1", testVal{}); !errors.Is(err, ErrInvalidFilter) {
		t.Fatalf("Insert invalid: %v", err)
	}
	wantStats(6, 4)

	// Removing what is not there.
	for _, f := range []string{"a/b", "a/+/c", "", "$share//x", "$share/x/a/+", "a", "#"} {
		if tr.Remove(f, "c1") {
			t.Fatalf("Remove(%q, c1) = true", f)
		}
	}
	if tr.Remove("a/+", "nobody") {
		t.Fatalf("Remove of an unknown key = true")
	}
	// Remove everything; the tree is freed.
	for _, rm := range [][2]string{{"a/+", "c1"}, {"a/+", "c2"}, {"a/#", "c1"}, {"$share/g/a/+", "c3"}, {"$share/g/a/+", "c4"}, {"$share/h/a/+", "c3"}} {
		if !tr.Remove(rm[0], rm[1]) {
			t.Fatalf("Remove(%q, %q) = false", rm[0], rm[1])
		}
		if tr.Remove(rm[0], rm[1]) {
			t.Fatalf("second Remove(%q, %q) = true", rm[0], rm[1])
		}
	}
	wantStats(0, 0)
	if n := tr.Stats().Nodes; n != 0 {
		t.Fatalf("Nodes = %d after removing all", n)
	}
}

func TestTrie_ManyKeysAndKids(t *testing.T) {
	// Past maxLinearSubs keys a node indexes them; past maxKids children
	// it uses a map. Both must survive removal back to small.
	tr := NewTrie[int, int](nil)
	const n = 200
	for i := range n {
		tr.Insert("fan/in", i, i)
		tr.Insert(fmt.Sprintf("fan/out/%d", i), i, i)
	}
	var r Result[int, int]
	for i := n - 1; i >= 0; i-- {
		tr.Match("fan/in", &r)
		if len(r.Subs) != i+1 {
			t.Fatalf("fan/in has %d subs, want %d", len(r.Subs), i+1)
		}
		tr.Match(fmt.Sprintf("fan/out/%d", i), &r)
		if len(r.Subs) != 1 || r.Subs[0].Key != i {
			t.Fatalf("fan/out/%d = %+v", i, r.Subs)
		}
		// Replacing in an indexed node keeps one entry.
		if existed, _ := tr.Insert("fan/in", i, -i); !existed {
			t.Fatalf("replace %d: existed false", i)
		}
		if !tr.Remove("fan/in", i) || !tr.Remove(fmt.Sprintf("fan/out/%d", i), i) {
			t.Fatalf("Remove %d failed", i)
		}
	}
	if s := tr.Stats(); s != (Stats{}) {
		t.Fatalf("Stats = %+v after removing all", s)
	}
}

func TestTrie_Shared(t *testing.T) {
	tr := NewTrie[string, int](nil)
	for _, k := range []string{"a", "b", "c"} {
		tr.Insert("$share/workers/jobs/+", k, 0)
	}
	var r Result[string, int]
	tr.Match("jobs/1", &r)
	if len(r.Groups) != 1 || r.Groups[0].Name != "workers" || len(r.Groups[0].Members) != 3 {
		t.Fatalf("Groups = %+v", r.Groups)
	}
	// Round-robin over the members, across Match calls.
	seen := map[string]int{}
	for range 9 {
		tr.Match("jobs/1", &r)
		seen[r.Groups[0].Pick().Key]++
	}
	if seen["a"] != 3 || seen["b"] != 3 || seen["c"] != 3 {
		t.Fatalf("round-robin = %v", seen)
	}
	// A snapshot survives a concurrent removal unchanged.
	tr.Match("jobs/1", &r)
	snap := r.Groups[0].Members
	tr.Remove("$share/workers/jobs/+", "a")
	if len(snap) != 3 || snap[0].Key != "a" {
		t.Fatalf("snapshot changed: %+v", snap)
	}
	// '$' topics are not matched by a shared '#'.
	tr.Insert("$share/all/#", "x", 0)
	tr.Match("$SYS/x", &r)
	if len(r.Groups) != 0 {
		t.Fatalf("shared # matched $SYS: %+v", r.Groups)
	}
}

// randomFilter and randomTopic draw from a small alphabet so that matches,
// shared groups and collisions are frequent.
func randomFilter(rng *rand.Rand) string {
	levels := []string{"a", "b", "", "+", "$SYS"}
	n := 1 + rng.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = levels[rng.IntN(len(levels))]
	}
	if rng.IntN(4) == 0 {
		parts[n-1] = "#"
	}
	f := strings.Join(parts, "/")
	if f == "" {
		f = "a" // an empty filter is invalid
	}
	if rng.IntN(5) == 0 {
		f = SharePrefix + []string{"g", "h"}[rng.IntN(2)] + "/" + f
	}
	return f
}

func randomTopic(rng *rand.Rand) string {
	levels := []string{"a", "b", "", "c", "$SYS"}
	n := 1 + rng.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = levels[rng.IntN(len(levels))]
	}
	if t := strings.Join(parts, "/"); t != "" {
		return t
	}
	return "c" // an empty name is invalid
}

func TestTrie_RandomAgainstMatch(t *testing.T) {
	for _, opts := range []*Options{DefaultOptions(), AWSOptions()} {
		t.Run(fmt.Sprintf("ParentMatch=%v", opts.ParentMatch), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			tr := NewTrie[int, int](opts)
			model := map[string]map[int]int{} // filter -> key -> value
			var r Result[int, int]
			for step := range 4000 {
				f, key := randomFilter(rng), rng.IntN(6)
				if rng.IntN(2) == 0 {
					_, had := model[f][key]
					if got := tr.Remove(f, key); got != had {
						t.Fatalf("step %d: Remove(%q, %d) = %v, want %v", step, f, key, got, had)
					}
					delete(model[f], key)
					if len(model[f]) == 0 {
						delete(model, f)
					}
				} else {
					_, had := model[f][key]
					existed, err := tr.Insert(f, key, step)
					if err != nil || existed != had {
						t.Fatalf("step %d: Insert(%q, %d) = %v, %v; want existed %v", step, f, key, existed, err, had)
					}
					if model[f] == nil {
						model[f] = map[int]int{}
					}
					model[f][key] = step
				}
				topic := randomTopic(rng)
				tr.Match(topic, &r)
				got := results(&r)
				want := bruteForce(model, topic, opts)
				if got != want {
					t.Fatalf("step %d: Match(%q)\n got %s\nwant %s", step, topic, got, want)
				}
			}
			subs := 0
			for _, ks := range model {
				subs += len(ks)
			}
			if s := tr.Stats(); s.Subscriptions != subs || s.Filters != len(model) {
				t.Fatalf("Stats = %+v, model has %d subs, %d filters", s, subs, len(model))
			}
			for f, ks := range model {
				for k := range ks {
					tr.Remove(f, k)
				}
			}
			if s := tr.Stats(); s != (Stats{}) {
				t.Fatalf("Stats = %+v after removing all", s)
			}
		})
	}
}

// results renders r canonically: sorted values, then sorted groups with
// their sorted member values.
func results(r *Result[int, int]) string {
	var subs []int
	for _, s := range r.Subs {
		subs = append(subs, s.Value)
	}
	slices.Sort(subs)
	var groups []string
	for _, g := range r.Groups {
		var m []int
		for _, s := range g.Members {
			m = append(m, s.Value)
		}
		slices.Sort(m)
		groups = append(groups, fmt.Sprint(g.Name, m))
	}
	slices.Sort(groups)
	return fmt.Sprint(subs, groups)
}

// bruteForce computes what results should print, using Options.Match over
// every filter of the model.
func bruteForce(model map[string]map[int]int, topic string, opts *Options) string {
	var r Result[int, int]
	for f, ks := range model {
		name, inner, shared, _ := ParseShared(f)
		if !opts.Match(inner, topic) {
			continue
		}
		var subs []Sub[int, int]
		for k, v := range ks {
			subs = append(subs, Sub[int, int]{k, v})
		}
		if shared {
			r.Groups = append(r.Groups, Group[int, int]{Name: name, Members: subs})
		} else {
			r.Subs = append(r.Subs, subs...)
		}
	}
	return results(&r)
}

func TestTrie_Concurrent(t *testing.T) {
	tr := NewTrie[int, int](nil)
	for i := range 100 {
		tr.Insert(fmt.Sprintf("dev/%d/cmd", i), i, i)
	}
	tr.Insert("$share/g/dev/+/cmd", -1, 0)
	var readers, writers sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var r Result[int, int]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tr.Match(fmt.Sprintf("dev/%d/cmd", (i+w)%100), &r)
				if len(r.Subs) < 1 || len(r.Groups) != 1 {
					t.Errorf("Match found %+v", r)
					return
				}
				r.Groups[0].Pick()
			}
		}()
	}
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for range 500 {
				f := fmt.Sprintf("dev/%d/+", rng.IntN(100))
				k := 1000 + w
				tr.Insert(f, k, 0)
				tr.Insert("$share/g/dev/+/cmd", k, 0)
				tr.Remove(f, k)
				tr.Remove("$share/g/dev/+/cmd", k)
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
}

func TestTrie_BytesPerSubscription(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	// A realistic AWS IoT mix: per device, four shadow topics and a
	// command topic (five subscriptions, one unique device level).
	const devices = 20000
	type val struct {
		qos, opts byte
		subID     uint32
	}
	before := heapInUse()
	tr := NewTrie[*int, val](nil)
	keys := make([]int, devices)
	for i := range devices {
		thing := fmt.Sprintf("thing-%06d", i)
		for _, f := range []string{
			"$aws/things/" + thing + "/shadow/update/accepted",
			"$aws/things/" + thing + "/shadow/update/rejected",
			"$aws/things/" + thing + "/shadow/update/delta",
			"$aws/things/" + thing + "/shadow/get/accepted",
			"cmd/" + thing + "/#",
		} {
			tr.Insert(f, &keys[i], val{qos: 1})
		}
	}
	after := heapInUse()
	s := tr.Stats()
	t.Logf("%d subscriptions, %d nodes: %.0f bytes/subscription, %.0f bytes/node",
		s.Subscriptions, s.Nodes, float64(after-before)/float64(s.Subscriptions), float64(after-before)/float64(s.Nodes))
	runtime.KeepAlive(tr)
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
