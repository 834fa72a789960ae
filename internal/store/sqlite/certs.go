package sqlite

import (
	"database/sql"
	"fmt"
	"strconv"

	"github.com/moat-iot/moat/internal/store"
)

const certCols = `id, pem, status, ca_certificate_id, mode, not_before, not_after,
	created_at, updated_at, generation_id, customer_version`

func scanCert(sc interface{ Scan(...any) error }) (store.Certificate, error) {
	var c store.Certificate
	var nb, na, ca, ua int64
	err := sc.Scan(&c.ID, &c.PEM, &c.Status, &c.CACertificateID, &c.Mode, &nb, &na,
		&ca, &ua, &c.GenerationID, &c.CustomerVersion)
	c.NotBefore, c.NotAfter = fromMicros(nb), fromMicros(na)
	c.CreatedAt, c.UpdatedAt = fromMicros(ca), fromMicros(ua)
	return c, err
}

func (t *tx) Certificate(id string) (store.Certificate, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+certCols+` FROM certificates WHERE id = ?`, id)
	c, err := scanCert(row)
	if err != nil {
		return store.Certificate{}, notFound("certificate "+id, err)
	}
	return c, nil
}

func (t *tx) InsertCertificate(c store.Certificate) error {
	_, err := t.exec("insert certificate "+c.ID,
		`INSERT INTO certificates (`+certCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.PEM, c.Status, c.CACertificateID, c.Mode, toMicros(c.NotBefore), toMicros(c.NotAfter),
		toMicros(c.CreatedAt), toMicros(c.UpdatedAt), c.GenerationID, c.CustomerVersion)
	return err
}

func (t *tx) UpdateCertificate(c store.Certificate) error {
	return t.execOne("update certificate "+c.ID,
		`UPDATE certificates SET status = ?, updated_at = ?, generation_id = ?, customer_version = ? WHERE id = ?`,
		c.Status, toMicros(c.UpdatedAt), c.GenerationID, c.CustomerVersion, c.ID)
}

func (t *tx) DeleteCertificate(id string) error {
	return t.execOne("delete certificate "+id, `DELETE FROM certificates WHERE id = ?`, id)
}

func (t *tx) ListCertificates(p store.Page, ascending bool) ([]store.Certificate, string, error) {
	const op = "list certificates"
	n := limit(p)
	us, id, ok, err := certCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + certCols + ` FROM certificates`
	var args []any
	if ok {
		if ascending {
			q += ` WHERE (created_at, id) > (?, ?)`
		} else {
			q += ` WHERE (created_at, id) < (?, ?)`
		}
		args = append(args, us, id)
	}
	if ascending {
		q += ` ORDER BY created_at, id LIMIT ?`
	} else {
		q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	}
	args = append(args, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanCert)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		next = encodeCursor(curCert, strconv.FormatInt(toMicros(last.CreatedAt), 10), last.ID)
	}
	return out, next, nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
