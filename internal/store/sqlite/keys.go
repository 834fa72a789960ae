package sqlite

import (
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

const keyCols = `id, secret, user_name, status, created_at, last_used_at`

func scanAccessKey(sc interface{ Scan(...any) error }) (store.AccessKey, error) {
	var k store.AccessKey
	var ca, lu int64
	err := sc.Scan(&k.ID, &k.Secret, &k.UserName, &k.Status, &ca, &lu)
	k.CreatedAt, k.LastUsedAt = fromMicros(ca), fromMicros(lu)
	return k, err
}

func (t *tx) AccessKey(id string) (store.AccessKey, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+keyCols+` FROM access_keys WHERE id = ?`, id)
	k, err := scanAccessKey(row)
	if err != nil {
		return store.AccessKey{}, notFound("access key "+id, err)
	}
	return k, nil
}

func (t *tx) InsertAccessKey(k store.AccessKey) error {
	_, err := t.exec("insert access key "+k.ID,
		`INSERT INTO access_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Secret, k.UserName, k.Status, toMicros(k.CreatedAt), toMicros(k.LastUsedAt))
	return err
}

func (t *tx) UpdateAccessKey(k store.AccessKey) error {
	return t.execOne("update access key "+k.ID,
		`UPDATE access_keys SET status = ?, last_used_at = ? WHERE id = ?`,
		k.Status, toMicros(k.LastUsedAt), k.ID)
}

func (t *tx) DeleteAccessKey(id string) error {
	return t.execOne("delete access key "+id, `DELETE FROM access_keys WHERE id = ?`, id)
}

func (t *tx) ListAccessKeys(userName string, p store.Page) ([]store.AccessKey, string, error) {
	const op = "list access keys"
	n := limit(p)
	after, _, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + keyCols + ` FROM access_keys WHERE id > ?`
	args := []any{after}
	if userName != "" {
		q += ` AND user_name = ?`
		args = append(args, userName)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanAccessKey)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curName, out[n-1].ID)
	}
	return out, next, nil
}
