package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func policy(name string) store.Policy {
	return store.Policy{Name: name, DefaultVersionID: 1, CreatedAt: ts(1), UpdatedAt: ts(1), GenerationID: "g-" + name}
}

func policyVersion(name string, v int) store.PolicyVersion {
	return store.PolicyVersion{PolicyName: name, VersionID: v, Document: fmt.Sprintf(`{"Version":"2012-10-17","v":%d}`, v), CreatedAt: ts(v)}
}

// testPolicies checks policy CRUD and that DeletePolicy takes versions and
// attachments with it.
func testPolicies(t *testing.T, s store.Store) {
	p := policy("p1")
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertPolicy(p); err != nil {
			return err
		}
		return tx.InsertPolicyVersion(policyVersion("p1", 1))
	})
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertPolicy(policy("p1")) })
	wantErr(t, "insert duplicate", err, store.ErrExists)

	u := p
	u.DefaultVersionID, u.UpdatedAt, u.GenerationID = 2, ts(9), "g2"
	u.CreatedAt = ts(99) // immutable: ignored
	update(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(u) })
	want := p
	want.DefaultVersionID, want.UpdatedAt, want.GenerationID = 2, ts(9), "g2"
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Policy("p1")
		wantErr(t, "get", err, nil)
		wantEqual(t, "get after update", got, want)
		_, err = tx.Policy("nope")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdatePolicy(policy("nope")) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.AttachPolicy("p1", "arn:aws:iot:us-east-1:000000000000:cert/aa") })
	update(t, s, func(tx store.Tx) error { return tx.DeletePolicy("p1") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeletePolicy("p1") })
	wantErr(t, "delete missing", err, store.ErrNotFound)

	// Re-creating the policy finds no old versions or attachments.
	update(t, s, func(tx store.Tx) error { return tx.InsertPolicy(policy("p1")) })
	view(t, s, func(tx store.Tx) error {
		vs, err := tx.PolicyVersions("p1")
		wantErr(t, "versions", err, nil)
		if len(vs) != 0 {
			t.Fatalf("versions survived DeletePolicy: %+v", vs)
		}
		targets, _, err := tx.PolicyTargets("p1", store.Page{})
		wantErr(t, "targets", err, nil)
		if len(targets) != 0 {
			t.Fatalf("attachments survived DeletePolicy: %v", targets)
		}
		return nil
	})
}

// testPolicyVersions checks version insert, lookup, order and delete.
func testPolicyVersions(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertPolicy(policy("p")); err != nil {
			return err
		}
		if err := tx.InsertPolicy(policy("other")); err != nil {
			return err
		}
		for _, v := range []int{3, 1, 2, 10} {
			if err := tx.InsertPolicyVersion(policyVersion("p", v)); err != nil {
				return err
			}
		}
		return tx.InsertPolicyVersion(policyVersion("other", 1))
	})
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertPolicyVersion(policyVersion("p", 2)) })
	wantErr(t, "insert duplicate version", err, store.ErrExists)
	err = s.Update(bg(), func(tx store.Tx) error { return tx.InsertPolicyVersion(policyVersion("nope", 1)) })
	wantErr(t, "version of missing policy", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.PolicyVersion("p", 2)
		wantErr(t, "get version", err, nil)
		wantEqual(t, "get version", got, policyVersion("p", 2))
		_, err = tx.PolicyVersion("p", 4)
		wantErr(t, "get missing version", err, store.ErrNotFound)
		vs, err := tx.PolicyVersions("p")
		wantErr(t, "versions", err, nil)
		var ids []int
		for _, v := range vs {
			ids = append(ids, v.VersionID)
		}
		wantEqual(t, "version order", ids, []int{1, 2, 3, 10})
		vs, err = tx.PolicyVersions("nope")
		wantErr(t, "versions of missing policy", err, nil)
		if len(vs) != 0 {
			t.Fatalf("versions of missing policy: %+v", vs)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeletePolicyVersion("p", 2) })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeletePolicyVersion("p", 2) })
	wantErr(t, "delete missing version", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.PolicyVersion("p", 2)
		wantErr(t, "get deleted version", err, store.ErrNotFound)
		return nil
	})
}

// testListPolicies pages in both orders with inserts between pages.
func testListPolicies(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 40; i += 2 { // even numbers; odd ones come later
			if err := tx.InsertPolicy(policy(name("pol", i))); err != nil {
				return err
			}
		}
		return nil
	})
	for _, asc := range []bool{true, false} {
		t.Run(fmt.Sprintf("ascending=%v", asc), func(t *testing.T) {
			between := func(page int) {
				// Insert one name near each end of the key space: one ahead
				// of the cursor, one behind it.
				sfx := fmt.Sprintf("-%v", asc)
				lo, hi := name("pol", 2*page+1)+sfx, name("pol", 37-2*page)+sfx
				update(t, s, func(tx store.Tx) error {
					if err := tx.InsertPolicy(policy(lo)); err != nil {
						return err
					}
					return tx.InsertPolicy(policy(hi))
				})
			}
			all, pages := pageAll(t, s, 6, between, func(tx store.Tx, p store.Page) ([]store.Policy, string, error) {
				return tx.ListPolicies(p, asc)
			})
			if pages < 3 {
				t.Fatalf("%d pages, want at least 3", pages)
			}
			for i := 1; i < len(all); i++ {
				a, b := all[i-1].Name, all[i].Name
				if asc && a >= b || !asc && a <= b {
					t.Fatalf("out of order at %d: %s then %s", i, a, b)
				}
			}
			seen := map[string]bool{}
			for _, p := range all {
				seen[p.Name] = true
			}
			for i := 0; i < 40; i += 2 {
				if !seen[name("pol", i)] {
					t.Fatalf("%s missing", name("pol", i))
				}
			}
		})
	}
}

// testPolicyAttachments checks attach (idempotent), detach and both
// listings with pagination.
func testPolicyAttachments(t *testing.T, s store.Store) {
	const target = "arn:aws:iot:us-east-1:000000000000:cert/abc"
	update(t, s, func(tx store.Tx) error {
		for i := range 12 {
			if err := tx.InsertPolicy(policy(name("ap", i))); err != nil {
				return err
			}
		}
		for i := range 12 {
			if err := tx.AttachPolicy(name("ap", 11-i), target); err != nil {
				return err
			}
		}
		for i := range 7 {
			if err := tx.AttachPolicy("ap-0000", fmt.Sprintf("target-%02d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	// Attaching twice is a no-op.
	update(t, s, func(tx store.Tx) error { return tx.AttachPolicy("ap-0003", target) })
	err := s.Update(bg(), func(tx store.Tx) error { return tx.AttachPolicy("nope", target) })
	wantErr(t, "attach missing policy", err, store.ErrNotFound)

	names, pages := pageAll(t, s, 5, nil, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.AttachedPolicies(target, p)
	})
	var want []string
	for i := range 12 {
		want = append(want, name("ap", i))
	}
	wantEqual(t, "attached policies", names, want)
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}
	targets, _ := pageAll(t, s, 3, nil, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.PolicyTargets("ap-0000", p)
	})
	wantEqual(t, "policy targets", targets, []string{
		target, "target-00", "target-01", "target-02", "target-03", "target-04", "target-05", "target-06"})

	update(t, s, func(tx store.Tx) error { return tx.DetachPolicy("ap-0005", target) })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DetachPolicy("ap-0005", target) })
	wantErr(t, "detach twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.AttachedPolicies(target, store.Page{})
		wantErr(t, "attached after detach", err, nil)
		if len(got) != 11 || next != "" {
			t.Fatalf("after detach: %v, next %q", got, next)
		}
		got, _, err = tx.AttachedPolicies("no-such-target", store.Page{})
		wantErr(t, "attached to unknown target", err, nil)
		if len(got) != 0 {
			t.Fatalf("unknown target has policies %v", got)
		}
		return nil
	})
}
