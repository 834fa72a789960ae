package sqlite

import (
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

const retainedCols = `topic, payload, qos, properties, updated_at, expires_at`

// blob is b as a bind argument for a BYTEA NOT NULL column: the driver
// binds a nil slice as NULL, so nil becomes the empty BLOB.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// unblob is a scanned BYTEA value as the store returns it: empty is nil
// (see store.Retained).
func unblob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func scanRetained(sc interface{ Scan(...any) error }) (store.Retained, error) {
	var r store.Retained
	var ua, ea int64
	err := sc.Scan(&r.Topic, &r.Payload, &r.QoS, &r.Properties, &ua, &ea)
	r.Payload, r.Properties = unblob(r.Payload), unblob(r.Properties)
	r.UpdatedAt, r.ExpiresAt = fromMicros(ua), fromMicros(ea)
	return r, err
}

func (t *tx) Retained(topic string) (store.Retained, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+retainedCols+` FROM retained WHERE topic = ?`, topic)
	r, err := scanRetained(row)
	if err != nil {
		return store.Retained{}, notFound("retained "+topic, err)
	}
	return r, nil
}

func (t *tx) PutRetained(r store.Retained) error {
	_, err := t.execPrepared("put retained "+r.Topic,
		`INSERT INTO retained (`+retainedCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos,
			properties = excluded.properties, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
		r.Topic, blob(r.Payload), int64(r.QoS), blob(r.Properties), toMicros(r.UpdatedAt), toMicros(r.ExpiresAt))
	return err
}

func (t *tx) DeleteRetained(topic string) error {
	return t.execOne("delete retained "+topic, `DELETE FROM retained WHERE topic = ?`, topic)
}

func (t *tx) ListRetained(p store.Page) ([]store.Retained, string, error) {
	const op = "list retained"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curRetained)
	if err != nil {
		return nil, "", err
	}
	rows, err := t.q.QueryContext(t.ctx,
		`SELECT `+retainedCols+` FROM retained WHERE topic > ? ORDER BY topic LIMIT ?`, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanRetained)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curRetained, out[n-1].Topic)
	}
	return out, next, nil
}
