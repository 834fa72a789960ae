package sqlite

import (
	"fmt"
	"strconv"

	"github.com/moat-iot/moat/internal/store"
)

// CA certificates live in ca_certificates (migration 6), keyed by id and
// listed by (created_at, id) like device certificates; the account's
// registration code in registration_codes. Device certificates of a CA are
// found through certificates_ca (ca_certificate_id, id) of migration 1.

// Cursor kinds of this file (with the others in tx.go): both are
// (created_at micros, id) cursors, tagged apart so that a cursor of one
// listing is refused by the other.
const (
	curCA     = "a" // ListCACertificates
	curByCA   = "b" // ListCertificatesByCA
	caCertSel = `SELECT ` + caCertCols + ` FROM ca_certificates`
)

const caCertCols = `id, pem, status, mode, auto_registration, registration_config, owner,
	not_before, not_after, created_at, updated_at, generation_id, customer_version`

func scanCACert(sc interface{ Scan(...any) error }) (store.CACertificate, error) {
	var c store.CACertificate
	var nb, na, ca, ua int64
	err := sc.Scan(&c.ID, &c.PEM, &c.Status, &c.Mode, &c.AutoRegistration, &c.RegistrationConfig, &c.Owner,
		&nb, &na, &ca, &ua, &c.GenerationID, &c.CustomerVersion)
	c.RegistrationConfig = unblob(c.RegistrationConfig)
	c.NotBefore, c.NotAfter = fromMicros(nb), fromMicros(na)
	c.CreatedAt, c.UpdatedAt = fromMicros(ca), fromMicros(ua)
	return c, err
}

func (t *tx) CACertificate(id string) (store.CACertificate, error) {
	c, err := scanCACert(t.q.QueryRowContext(t.ctx, caCertSel+` WHERE id = ?`, id))
	if err != nil {
		return store.CACertificate{}, notFound("ca certificate "+id, err)
	}
	return c, nil
}

func (t *tx) InsertCACertificate(c store.CACertificate) error {
	_, err := t.exec("insert ca certificate "+c.ID,
		`INSERT INTO ca_certificates (`+caCertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.PEM, c.Status, c.Mode, c.AutoRegistration, blob(c.RegistrationConfig), c.Owner,
		toMicros(c.NotBefore), toMicros(c.NotAfter), toMicros(c.CreatedAt), toMicros(c.UpdatedAt),
		c.GenerationID, c.CustomerVersion)
	return err
}

func (t *tx) UpdateCACertificate(c store.CACertificate) error {
	return t.execOne("update ca certificate "+c.ID,
		`UPDATE ca_certificates SET status = ?, auto_registration = ?, registration_config = ?,
			updated_at = ?, generation_id = ?, customer_version = ? WHERE id = ?`,
		c.Status, c.AutoRegistration, blob(c.RegistrationConfig), toMicros(c.UpdatedAt),
		c.GenerationID, c.CustomerVersion, c.ID)
}

func (t *tx) DeleteCACertificate(id string) error {
	return t.execOne("delete ca certificate "+id, `DELETE FROM ca_certificates WHERE id = ?`, id)
}

func (t *tx) ListCACertificates(p store.Page, ascending bool) ([]store.CACertificate, string, error) {
	return listByCreated(t, "list ca certificates", curCA, caCertSel, "", nil, p, ascending, scanCACert,
		func(c store.CACertificate) (int64, string) { return toMicros(c.CreatedAt), c.ID })
}

func (t *tx) ActiveCACertificates() ([]store.CACertificate, error) {
	rows, err := t.q.QueryContext(t.ctx, caCertSel+` WHERE status = ?`, "ACTIVE")
	if err != nil {
		return nil, fmt.Errorf("active ca certificates: %w", err)
	}
	out, err := collect(rows, scanCACert)
	if err != nil {
		return nil, fmt.Errorf("active ca certificates: %w", err)
	}
	return out, nil
}

func (t *tx) ListCertificatesByCA(caID string, p store.Page, ascending bool) ([]store.Certificate, string, error) {
	return listByCreated(t, "list certificates by ca "+caID, curByCA, `SELECT `+certCols+` FROM certificates`,
		"ca_certificate_id = ?", []any{caID}, p, ascending, scanCert,
		func(c store.Certificate) (int64, string) { return toMicros(c.CreatedAt), c.ID })
}

func (t *tx) RegistrationCode(account string) (string, error) {
	var code string
	err := t.q.QueryRowContext(t.ctx, `SELECT code FROM registration_codes WHERE account_id = ?`, account).Scan(&code)
	if err != nil {
		return "", notFound("registration code of "+account, err)
	}
	return code, nil
}

func (t *tx) InsertRegistrationCode(account, code string) error {
	_, err := t.exec("insert registration code of "+account,
		`INSERT INTO registration_codes (account_id, code) VALUES (?, ?)`, account, code)
	return err
}

// listByCreated runs sel (a SELECT without WHERE) filtered by where (""
// for none; its arguments in args) and paged by (created_at, id) with
// cursors of this kind, ascending or descending; key gives a row's key.
func listByCreated[T any](t *tx, op, kind, sel, where string, args []any, p store.Page, ascending bool,
	scan func(interface{ Scan(...any) error }) (T, error), key func(T) (int64, string)) ([]T, string, error) {
	n := limit(p)
	parts, ok, err := decodeCursor(p.After, kind, 2)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	conds := where
	q := append([]any(nil), args...)
	if ok {
		us, perr := strconv.ParseInt(parts[0], 10, 64)
		if perr != nil {
			return nil, "", fmt.Errorf("%s: %w", op, store.ErrInvalidCursor)
		}
		c := `(created_at, id) > (?, ?)`
		if !ascending {
			c = `(created_at, id) < (?, ?)`
		}
		if conds != "" {
			conds += " AND "
		}
		conds += c
		q = append(q, us, parts[1])
	}
	query := sel
	if conds != "" {
		query += ` WHERE ` + conds
	}
	if ascending {
		query += ` ORDER BY created_at, id LIMIT ?`
	} else {
		query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	}
	q = append(q, n+1)
	rows, err := t.q.QueryContext(t.ctx, query, q...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		us, id := key(out[n-1])
		next = encodeCursor(kind, strconv.FormatInt(us, 10), id)
	}
	return out, next, nil
}
