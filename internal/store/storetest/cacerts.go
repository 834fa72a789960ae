package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func caCert(id string, created int) store.CACertificate {
	return store.CACertificate{
		ID:                 id,
		PEM:                "-----BEGIN CERTIFICATE-----\n" + id + "\n-----END CERTIFICATE-----\n",
		Status:             "ACTIVE",
		Mode:               "DEFAULT",
		AutoRegistration:   "DISABLE",
		RegistrationConfig: []byte(`{"templateBody":"{}","roleArn":"arn:aws:iam::000000000000:role/r"}`),
		Owner:              "000000000000",
		NotBefore:          ts(-3600),
		NotAfter:           ts(365 * 24 * 3600),
		CreatedAt:          ts(created),
		UpdatedAt:          ts(created),
		GenerationID:       "gen-" + id,
		CustomerVersion:    1,
	}
}

// testCACertificates checks the CA certificate CRUD methods, their
// sentinels, and that an update changes only the mutable fields.
func testCACertificates(t *testing.T, s store.Store) {
	c := caCert("ca01", 1)
	update(t, s, func(tx store.Tx) error { return tx.InsertCACertificate(c) })
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertCACertificate(caCert("ca01", 2)) })
	wantErr(t, "insert duplicate", err, store.ErrExists)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.CACertificate("ca01")
		wantErr(t, "get", err, nil)
		wantEqual(t, "get", got, c)
		_, err = tx.CACertificate("missing")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})

	u := c
	u.Status, u.AutoRegistration, u.RegistrationConfig = "INACTIVE", "ENABLE", nil
	u.UpdatedAt, u.GenerationID, u.CustomerVersion = ts(50), "gen-2", 2
	u.PEM, u.Mode, u.Owner, u.CreatedAt = "ignored", "SNI_ONLY", "111111111111", ts(99)
	update(t, s, func(tx store.Tx) error { return tx.UpdateCACertificate(u) })
	want := c
	want.Status, want.AutoRegistration, want.RegistrationConfig = u.Status, u.AutoRegistration, nil
	want.UpdatedAt, want.GenerationID, want.CustomerVersion = u.UpdatedAt, u.GenerationID, u.CustomerVersion
	view(t, s, func(tx store.Tx) error {
		got, err := tx.CACertificate("ca01")
		wantErr(t, "get after update", err, nil)
		wantEqual(t, "get after update", got, want)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateCACertificate(caCert("missing", 1)) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	// ActiveCACertificates returns only ACTIVE ones.
	update(t, s, func(tx store.Tx) error { return tx.InsertCACertificate(caCert("ca02", 2)) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ActiveCACertificates()
		wantErr(t, "active", err, nil)
		if len(got) != 1 || got[0].ID != "ca02" {
			t.Fatalf("ActiveCACertificates = %+v, want ca02 only", got)
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteCACertificate("ca01") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteCACertificate("ca01") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.CACertificate("ca01")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		return nil
	})
}

// testListCACertificates checks paging both ways, and that a cursor of
// another listing is refused.
func testListCACertificates(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 5; i++ {
			if err := tx.InsertCACertificate(caCert(fmt.Sprintf("ca%02d", i), 10-i)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, asc := range []bool{true, false} {
		var ids []string
		after := ""
		for {
			var page []store.CACertificate
			var next string
			view(t, s, func(tx store.Tx) error {
				var err error
				page, next, err = tx.ListCACertificates(store.Page{After: after, Limit: 2}, asc)
				return err
			})
			for _, c := range page {
				ids = append(ids, c.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		want := []string{"ca04", "ca03", "ca02", "ca01", "ca00"}
		if !asc {
			want = []string{"ca00", "ca01", "ca02", "ca03", "ca04"}
		}
		wantEqual(t, fmt.Sprintf("list asc=%v", asc), ids, want)
	}
	var certNext string
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 3; i++ {
			if err := tx.InsertCertificate(cert(fmt.Sprintf("d%d", i), i)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		var err error
		_, certNext, err = tx.ListCertificates(store.Page{Limit: 1}, true)
		return err
	})
	err := s.View(bg(), func(tx store.Tx) error {
		_, _, err := tx.ListCACertificates(store.Page{After: certNext}, true)
		return err
	})
	wantErr(t, "list with a certificate cursor", err, store.ErrInvalidCursor)
}

// testCertificatesByCA checks that ListCertificatesByCA lists a CA's
// device certificates only, in pages.
func testCertificatesByCA(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 5; i++ {
			c := cert(fmt.Sprintf("d%d", i), i)
			if i%2 == 0 {
				c.CACertificateID = "caA"
			} else {
				c.CACertificateID = "caB"
			}
			if err := tx.InsertCertificate(c); err != nil {
				return err
			}
		}
		return tx.InsertCertificate(cert("none", 9))
	})
	var ids []string
	after := ""
	for {
		var page []store.Certificate
		var next string
		view(t, s, func(tx store.Tx) error {
			var err error
			page, next, err = tx.ListCertificatesByCA("caA", store.Page{After: after, Limit: 2}, false)
			return err
		})
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	wantEqual(t, "by caA descending", ids, []string{"d4", "d2", "d0"})
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListCertificatesByCA("nobody", store.Page{}, true)
		wantErr(t, "by unknown ca", err, nil)
		if len(got) != 0 || next != "" {
			t.Fatalf("ListCertificatesByCA(nobody) = %v, %q", got, next)
		}
		return nil
	})
}

// testRegistrationCodes checks that a code is kept per account and set
// once.
func testRegistrationCodes(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		_, err := tx.RegistrationCode("000000000000")
		wantErr(t, "missing", err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.InsertRegistrationCode("000000000000", "abc") })
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertRegistrationCode("000000000000", "def") })
	wantErr(t, "second", err, store.ErrExists)
	update(t, s, func(tx store.Tx) error { return tx.InsertRegistrationCode("111111111111", "xyz") })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.RegistrationCode("000000000000")
		wantErr(t, "get", err, nil)
		wantEqual(t, "get", got, "abc")
		return nil
	})
}
