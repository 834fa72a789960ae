package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

func cert(id string, created int) store.Certificate {
	return store.Certificate{
		ID:              id,
		PEM:             "-----BEGIN CERTIFICATE-----\n" + id + "\n-----END CERTIFICATE-----\n",
		Status:          "ACTIVE",
		Mode:            "DEFAULT",
		NotBefore:       ts(-3600),
		NotAfter:        ts(365 * 24 * 3600),
		CreatedAt:       ts(created),
		UpdatedAt:       ts(created),
		GenerationID:    "gen-" + id,
		CustomerVersion: 1,
	}
}

// testCertificates checks the certificate CRUD methods and their sentinels.
func testCertificates(t *testing.T, s store.Store) {
	c := cert("aa01", 1)
	c.CACertificateID = "ca01"
	update(t, s, func(tx store.Tx) error { return tx.InsertCertificate(c) })

	// A second insert with the same id collides.
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertCertificate(cert("aa01", 2)) })
	wantErr(t, "insert duplicate", err, store.ErrExists)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.Certificate("aa01")
		wantErr(t, "get", err, nil)
		wantEqual(t, "get", got, c)
		_, err = tx.Certificate("missing")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})

	// UpdateCertificate changes only the mutable fields.
	u := c
	u.Status = "REVOKED"
	u.UpdatedAt = ts(50)
	u.GenerationID = "gen-2"
	u.CustomerVersion = 2
	u.PEM = "ignored"
	u.Mode = "SNI_ONLY"
	u.CreatedAt = ts(99)
	update(t, s, func(tx store.Tx) error { return tx.UpdateCertificate(u) })
	want := c
	want.Status, want.UpdatedAt, want.GenerationID, want.CustomerVersion = u.Status, u.UpdatedAt, u.GenerationID, u.CustomerVersion
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Certificate("aa01")
		wantErr(t, "get after update", err, nil)
		wantEqual(t, "get after update", got, want)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateCertificate(cert("missing", 1)) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.DeleteCertificate("aa01") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteCertificate("aa01") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Certificate("aa01")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		return nil
	})
}

// testCertificateTimes checks that extreme and zero times round-trip: an
// X.509 notAfter of 9999-12-31T23:59:59Z, a notBefore before 1970, and the
// zero time.
func testCertificateTimes(t *testing.T, s store.Store) {
	c := cert("bb01", 1)
	c.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	c.NotBefore = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	z := cert("bb02", 2)
	z.NotBefore, z.NotAfter = time.Time{}, time.Time{}
	// A non-UTC time comes back as the same instant in UTC.
	l := cert("bb03", 3)
	l.CreatedAt = time.Date(2024, 5, 6, 7, 8, 9, 10_000, time.FixedZone("X", 3600))
	update(t, s, func(tx store.Tx) error {
		for _, x := range []store.Certificate{c, z, l} {
			if err := tx.InsertCertificate(x); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Certificate("bb01")
		wantErr(t, "get", err, nil)
		wantEqual(t, "far times", got, c)
		got, err = tx.Certificate("bb02")
		wantErr(t, "get", err, nil)
		if !got.NotBefore.IsZero() || !got.NotAfter.IsZero() {
			t.Fatalf("zero times came back as %v, %v", got.NotBefore, got.NotAfter)
		}
		got, err = tx.Certificate("bb03")
		wantErr(t, "get", err, nil)
		if !got.CreatedAt.Equal(l.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt %v, want %v in UTC", got.CreatedAt, l.CreatedAt)
		}
		return nil
	})
}

// testListCertificates pages over more than two pages in both orders while
// inserting certificates between pages; ties on created_at order by id.
func testListCertificates(t *testing.T, s store.Store) {
	const n = 23
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			// Three certificates share each creation time.
			if err := tx.InsertCertificate(cert(fmt.Sprintf("c%03d", i), 100+i/3)); err != nil {
				return err
			}
		}
		return nil
	})
	key := func(c store.Certificate) string { return fmt.Sprintf("%020d/%s", c.CreatedAt.UnixMicro(), c.ID) }
	extra := 0 // shared, so each subtest's inserts lie beyond all earlier rows
	for _, asc := range []bool{true, false} {
		t.Run(fmt.Sprintf("ascending=%v", asc), func(t *testing.T) {
			first := extra + 1
			between := func(page int) {
				// One certificate far before and one far after the current
				// rows, both created while paging.
				update(t, s, func(tx store.Tx) error {
					extra++
					if err := tx.InsertCertificate(cert(fmt.Sprintf("e%v%03d", asc, extra), -1000-extra)); err != nil {
						return err
					}
					return tx.InsertCertificate(cert(fmt.Sprintf("f%v%03d", asc, extra), 1000+extra))
				})
			}
			all, pages := pageAll(t, s, 5, between, func(tx store.Tx, p store.Page) ([]store.Certificate, string, error) {
				return tx.ListCertificates(p, asc)
			})
			if pages < 3 {
				t.Fatalf("%d pages, want at least 3", pages)
			}
			seen := map[string]bool{}
			for i, c := range all {
				if seen[c.ID] {
					t.Fatalf("%s listed twice", c.ID)
				}
				seen[c.ID] = true
				if i > 0 {
					a, b := key(all[i-1]), key(c)
					if asc && a >= b || !asc && a <= b {
						t.Fatalf("out of order at %d: %s then %s", i, a, b)
					}
				}
			}
			for i := range n {
				if id := fmt.Sprintf("c%03d", i); !seen[id] {
					t.Fatalf("%s missing from listing", id)
				}
			}
			// Rows inserted ahead of the cursor show up; rows behind it don't.
			for i := first; i <= extra; i++ {
				ahead, behind := fmt.Sprintf("f%v%03d", asc, i), fmt.Sprintf("e%v%03d", asc, i)
				if !asc {
					ahead, behind = behind, ahead
				}
				if !seen[ahead] {
					t.Fatalf("%s, inserted ahead of the cursor, is missing", ahead)
				}
				if seen[behind] {
					t.Fatalf("%s, inserted behind the cursor, is listed", behind)
				}
			}
		})
	}
	// Default limit: at most 100 rows.
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.ListCertificates(store.Page{}, true)
		wantErr(t, "default page", err, nil)
		if len(got) == 0 || len(got) > 100 {
			t.Fatalf("default page has %d rows", len(got))
		}
		return nil
	})
}
