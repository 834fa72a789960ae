package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// countThings returns the number of things (all pages).
func countThings(t *testing.T, tx store.Tx) int {
	t.Helper()
	n, err := countAll(tx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countAll returns the number of things; safe off the test goroutine.
func countAll(tx store.Tx) (int, error) {
	n, cursor := 0, ""
	for {
		page, next, err := tx.ListThings(store.ThingFilter{}, store.Page{After: cursor, Limit: 1000})
		if err != nil {
			return 0, fmt.Errorf("ListThings: %w", err)
		}
		n += len(page)
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// testUpdateRollback checks that an Update whose fn fails after writing
// leaves nothing behind and returns fn's error.
func testUpdateRollback(t *testing.T, s store.Store) {
	err := s.Update(bg(), func(tx store.Tx) error {
		if err := tx.InsertThing(thing("gone", map[string]string{"a": "b"})); err != nil {
			return err
		}
		if err := tx.InsertPolicy(policy("gone")); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	wantErr(t, "failing update", err, errBoom)
	// A failed insert (ErrExists) after a successful one: both undone.
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("there", nil)) })
	err = s.Update(bg(), func(tx store.Tx) error {
		if err := tx.InsertThing(thing("gone2", nil)); err != nil {
			return err
		}
		return tx.InsertThing(thing("there", nil))
	})
	wantErr(t, "colliding update", err, store.ErrExists)
	view(t, s, func(tx store.Tx) error {
		for _, n := range []string{"gone", "gone2"} {
			_, err := tx.Thing(n)
			wantErr(t, "rolled-back thing "+n, err, store.ErrNotFound)
		}
		_, err := tx.Policy("gone")
		wantErr(t, "rolled-back policy", err, store.ErrNotFound)
		got, _, err := tx.ListThings(store.ThingFilter{AttributeName: "a"}, store.Page{})
		wantErr(t, "list", err, nil)
		if len(got) != 0 {
			t.Fatalf("rolled-back attributes are listed: %+v", got)
		}
		return nil
	})
}

// testUpdateAtomicConcurrent runs many concurrent Updates, half of which
// fail after writing, so that failures share group-commit batches with
// successes: every success must be committed and every failure undone.
func testUpdateAtomicConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 32, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := w*rounds + r
				fail := i%2 == 1
				err := s.Update(bg(), func(tx store.Tx) error {
					if err := tx.InsertThing(thing(name("ok", i), map[string]string{"w": fmt.Sprint(w)})); err != nil {
						return err
					}
					if !fail {
						return nil
					}
					if err := tx.InsertThing(thing(name("bad", i), nil)); err != nil {
						return err
					}
					if i%4 == 1 {
						return errBoom
					}
					// Collide with the thing just inserted: ErrExists.
					return tx.InsertThing(thing(name("bad", i), nil))
				})
				switch {
				case !fail && err != nil:
					errs <- fmt.Errorf("update %d: %w", i, err)
				case fail && i%4 == 1 && !errors.Is(err, errBoom):
					errs <- fmt.Errorf("update %d: error %v, want errBoom", i, err)
				case fail && i%4 == 3 && !errors.Is(err, store.ErrExists):
					errs <- fmt.Errorf("update %d: error %v, want ErrExists", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	view(t, s, func(tx store.Tx) error {
		for i := range workers * rounds {
			_, err := tx.Thing(name("ok", i))
			if i%2 == 0 {
				wantErr(t, "committed "+name("ok", i), err, nil)
			} else {
				wantErr(t, "rolled back "+name("ok", i), err, store.ErrNotFound)
			}
			_, err = tx.Thing(name("bad", i))
			wantErr(t, "rolled back "+name("bad", i), err, store.ErrNotFound)
		}
		if n := countThings(t, tx); n != workers*rounds/2 {
			t.Fatalf("%d things, want %d", n, workers*rounds/2)
		}
		return nil
	})
}

// testUpdateContext checks that an Update whose context is already done
// does not run fn.
func testUpdateContext(t *testing.T, s store.Store) {
	c, cancel := context.WithCancel(bg())
	cancel()
	ran := false
	err := s.Update(c, func(tx store.Tx) error {
		ran = true
		return tx.InsertThing(thing("cancelled", nil))
	})
	wantErr(t, "cancelled update", err, context.Canceled)
	if ran {
		t.Fatal("fn ran under a cancelled context")
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Thing("cancelled")
		wantErr(t, "cancelled thing", err, store.ErrNotFound)
		return nil
	})
	// Many Updates with short deadlines: each either commits (nil) or
	// reports the deadline and did not commit.
	var wg sync.WaitGroup
	results := make([]error, 64)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(bg(), time.Duration(i%4)*100*time.Microsecond)
			defer cancel()
			results[i] = s.Update(c, func(tx store.Tx) error { return tx.InsertThing(thing(name("dl", i), nil)) })
		}()
	}
	wg.Wait()
	view(t, s, func(tx store.Tx) error {
		for i, err := range results {
			_, gerr := tx.Thing(name("dl", i))
			switch {
			case err == nil:
				wantErr(t, "committed "+name("dl", i), gerr, nil)
			case errors.Is(err, context.DeadlineExceeded):
				wantErr(t, "timed out "+name("dl", i), gerr, store.ErrNotFound)
			default:
				t.Fatalf("update %d: %v", i, err)
			}
		}
		return nil
	})
}

// testUpdatePanic checks that a panic in fn reaches the caller of Update,
// rolls back fn's writes, and leaves the store working.
func testUpdatePanic(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want the panic value", v)
			}
		}()
		s.Update(bg(), func(tx store.Tx) error {
			tx.InsertThing(thing("panicked", nil))
			panic("boom")
		})
	}()
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("after", nil)) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Thing("panicked")
		wantErr(t, "panicked thing", err, store.ErrNotFound)
		_, err = tx.Thing("after")
		wantErr(t, "later thing", err, nil)
		return nil
	})
}

// testViewReadOnly checks that writes inside View fail and change nothing.
func testViewReadOnly(t *testing.T, s store.Store) {
	s.View(bg(), func(tx store.Tx) error {
		if err := tx.InsertThing(thing("ro", nil)); err == nil {
			t.Error("InsertThing inside View succeeded")
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Thing("ro")
		wantErr(t, "thing written in View", err, store.ErrNotFound)
		return nil
	})
	// View returns fn's error.
	err := s.View(bg(), func(tx store.Tx) error { return errBoom })
	wantErr(t, "view error", err, errBoom)
}

// testViewSnapshot checks that a View sees one snapshot: a commit made
// while it runs is invisible to it, and visible to the next View.
func testViewSnapshot(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("before", nil)) })
	view(t, s, func(tx store.Tx) error {
		if n := countThings(t, tx); n != 1 {
			t.Fatalf("%d things, want 1", n)
		}
		update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("during", nil)) })
		if n := countThings(t, tx); n != 1 {
			t.Fatalf("a commit during the View is visible: %d things", n)
		}
		_, err := tx.Thing("during")
		wantErr(t, "thing committed during the View", err, store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		if n := countThings(t, tx); n != 2 {
			t.Fatalf("%d things after the View, want 2", n)
		}
		return nil
	})
}

// testClose checks that Update and View fail with ErrClosed after Close,
// and that Close can be called twice.
func testClose(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("x", nil)) })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertThing(thing("y", nil)) })
	wantErr(t, "Update after Close", err, store.ErrClosed)
	err = s.View(bg(), func(tx store.Tx) error { return nil })
	wantErr(t, "View after Close", err, store.ErrClosed)
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// testCloseFinishesQueued closes the store while Updates are in flight:
// each Update either commits (nil) or was refused (ErrClosed); none fails
// otherwise or hangs.
func testCloseFinishesQueued(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	errs := make([]error, 200)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Update(bg(), func(tx store.Tx) error { return tx.InsertThing(thing(name("q", i), nil)) })
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrClosed) {
			t.Fatalf("update %d: %v", i, err)
		}
	}
}

// testConcurrentViewAndUpdate runs readers and writers together (for the
// race detector) and checks readers see only whole Updates: each Update
// inserts a pair of things.
func testConcurrentViewAndUpdate(t *testing.T, s store.Store) {
	const writers, pairs = 4, 25
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pairs {
				err := s.Update(bg(), func(tx store.Tx) error {
					if err := tx.InsertThing(thing(fmt.Sprintf("p%d-%03d-a", w, i), nil)); err != nil {
						return err
					}
					return tx.InsertThing(thing(fmt.Sprintf("p%d-%03d-b", w, i), nil))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rg sync.WaitGroup
	for range 4 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.View(bg(), func(tx store.Tx) error {
					n, err := countAll(tx)
					if err == nil && n%2 != 0 {
						err = fmt.Errorf("saw %d things: half an Update", n)
					}
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rg.Wait()
	view(t, s, func(tx store.Tx) error {
		if n := countThings(t, tx); n != 2*writers*pairs {
			t.Fatalf("%d things, want %d", n, 2*writers*pairs)
		}
		return nil
	})
}

// registrySnapshot is what testRegistryRollback compares: the type, the
// groups, both membership listings and the tags its setup made.
type registrySnapshot struct {
	Type        store.ThingType
	Groups      []string
	Members     []string
	GroupsOf    []string
	Tags        map[string]string
	ThingExists bool
}

func snapshotRegistry(t *testing.T, s store.Store) registrySnapshot {
	t.Helper()
	var r registrySnapshot
	view(t, s, func(tx store.Tx) error {
		var err error
		if r.Type, err = tx.ThingType("rt"); err != nil {
			return err
		}
		gs, _, err := tx.ListThingGroups(store.GroupFilter{}, store.Page{})
		if err != nil {
			return err
		}
		r.Groups = groupNames(gs)
		if r.Members, _, err = tx.GroupThings("rg", store.Page{}); err != nil {
			return err
		}
		if r.GroupsOf, _, err = tx.ThingGroupsOf("rthing", store.Page{}); err != nil {
			return err
		}
		if r.Tags, err = tx.Tags(groupARN("rg")); err != nil {
			return err
		}
		_, err = tx.Thing("rthing")
		r.ThingExists = err == nil
		return nil
	})
	return r
}

// testRegistryRollback checks that a failing Update undoes its thing-type,
// group, membership and tag writes, cascades included.
func testRegistryRollback(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThingType(thingType("rt")); err != nil {
			return err
		}
		if err := tx.InsertThing(thing("rthing", nil)); err != nil {
			return err
		}
		if err := tx.InsertThingGroup(group("rg", "")); err != nil {
			return err
		}
		if err := tx.AddThingToGroup("rg", "rthing"); err != nil {
			return err
		}
		return tx.PutTags(groupARN("rg"), map[string]string{"k": "v"})
	})
	before := snapshotRegistry(t, s)
	wantEqual(t, "setup", before, registrySnapshot{
		Type: thingType("rt"), Groups: []string{"rg"}, Members: []string{"rthing"}, GroupsOf: []string{"rg"},
		Tags: map[string]string{"k": "v"}, ThingExists: true,
	})

	// Every kind of write, then errBoom.
	err := s.Update(bg(), func(tx store.Tx) error {
		steps := []func() error{
			func() error { return tx.InsertThingType(thingType("gone")) },
			func() error { u := thingType("rt"); u.Description = "changed"; return tx.UpdateThingType(u) },
			func() error { return tx.InsertThingGroup(group("gone", "rg")) },
			func() error { return tx.AddThingToGroup("gone", "rthing") },
			func() error { return tx.PutTags(groupARN("rg"), map[string]string{"k": "changed", "new": "x"}) },
			func() error { return tx.PutTags(groupARN("gone"), map[string]string{"k": "v"}) },
			func() error { return tx.DeleteTags(groupARN("rg"), nil) },
			func() error { return tx.RemoveThingFromGroup("rg", "rthing") },
			func() error { return tx.AddThingToGroup("rg", "rthing") },
			func() error { return tx.DeleteThingGroup("rg") }, // cascades
			func() error { return tx.DeleteThing("rthing") },  // cascades
			func() error { return tx.DeleteThingType("rt") },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return errBoom
	})
	wantErr(t, "failing update", err, errBoom)
	wantEqual(t, "after a failing update", snapshotRegistry(t, s), before)

	// A sentinel after successful writes: all undone.
	for _, fn := range []func(tx store.Tx) error{
		func(tx store.Tx) error {
			if err := tx.InsertThingGroup(group("gone", "")); err != nil {
				return err
			}
			return tx.AddThingToGroup("gone", "nope") // ErrNotFound
		},
		func(tx store.Tx) error {
			if err := tx.DeleteThingGroup("rg"); err != nil {
				return err
			}
			return tx.InsertThingGroup(group("gone", "nope")) // ErrNotFound
		},
		func(tx store.Tx) error {
			if err := tx.DeleteThing("rthing"); err != nil {
				return err
			}
			return tx.InsertThingType(thingType("rt")) // ErrExists
		},
	} {
		err := s.Update(bg(), fn)
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExists) {
			t.Fatalf("failing update: %v, want a sentinel", err)
		}
		wantEqual(t, "after a failing update", snapshotRegistry(t, s), before)
	}
}

// testRegistryAtomicConcurrent runs concurrent Updates that add
// memberships and tags, half of them failing, so that failures share
// group-commit batches with successes.
func testRegistryAtomicConcurrent(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertThingGroup(group("cg", "")) })
	const workers, rounds = 16, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := w*rounds + r
				err := s.Update(bg(), func(tx store.Tx) error {
					n := name("c", i)
					if err := tx.InsertThing(thing(n, nil)); err != nil {
						return err
					}
					if err := tx.AddThingToGroup("cg", n); err != nil {
						return err
					}
					if err := tx.PutTags(groupARN("cg"), map[string]string{n: "v"}); err != nil {
						return err
					}
					if i%2 == 1 {
						return errBoom
					}
					return nil
				})
				switch {
				case i%2 == 0 && err != nil:
					errs <- fmt.Errorf("update %d: %w", i, err)
				case i%2 == 1 && !errors.Is(err, errBoom):
					errs <- fmt.Errorf("update %d: error %v, want errBoom", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var wantMembers []string
	wantTags := map[string]string{}
	for i := 0; i < workers*rounds; i += 2 {
		wantMembers = append(wantMembers, name("c", i))
		wantTags[name("c", i)] = "v"
	}
	members, _ := pageAll(t, s, 1000, nil, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.GroupThings("cg", p)
	})
	wantEqual(t, "members", members, wantMembers)
	view(t, s, func(tx store.Tx) error {
		tags, err := tx.Tags(groupARN("cg"))
		wantErr(t, "tags", err, nil)
		wantEqual(t, "tags", tags, wantTags)
		return nil
	})
}
