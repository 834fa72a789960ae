package sqlite

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/store"
)

// Subscriptions are stored as a JSON array on the session row rather than
// in a child table: a session is read and written whole (PutSession
// replaces it, the broker loads sessions whole at start and on reconnect),
// it has few subscriptions (50 by default), and nothing queries by filter
// (the broker's subscription trie lives in memory). One row read or write
// per session beats a delete and up to 50 inserts on every PutSession.

// subJSON is the stored form of a store.Subscription. Its short, explicit
// names are the on-disk format: renaming a Go field must not change it.
type subJSON struct {
	Filter            string `json:"f"`
	QoS               byte   `json:"q,omitempty"`
	NoLocal           bool   `json:"nl,omitempty"`
	RetainAsPublished bool   `json:"rap,omitempty"`
	RetainHandling    byte   `json:"rh,omitempty"`
	Identifier        uint32 `json:"id,omitempty"`
}

// encodeSubs returns the JSON stored in sessions.subscriptions. JSON cannot
// carry invalid UTF-8 unchanged, so it is refused (MQTT topic filters are
// UTF-8 [MQTT-1.5.3-1], so the broker never sends one).
func encodeSubs(subs []store.Subscription) (string, error) {
	if len(subs) == 0 {
		return "[]", nil
	}
	js := make([]subJSON, len(subs))
	for i, s := range subs {
		if !utf8.ValidString(s.Filter) {
			return "", fmt.Errorf("subscription %q: invalid UTF-8", s.Filter)
		}
		js[i] = subJSON(s)
	}
	b, err := json.Marshal(js)
	return string(b), err
}

func decodeSubs(s string) ([]store.Subscription, error) {
	var js []subJSON
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, err
	}
	if len(js) == 0 {
		return nil, nil
	}
	subs := make([]store.Subscription, len(js))
	for i, j := range js {
		subs[i] = store.Subscription(j)
	}
	return subs, nil
}

const sessionCols = `client_id, protocol_version, expiry_interval, disconnected_at, certificate_id, subscriptions, will, created_at, updated_at`

func scanSession(sc interface{ Scan(...any) error }) (store.Session, error) {
	var s store.Session
	var pv, ei, da, ca, ua int64
	var subs string
	if err := sc.Scan(&s.ClientID, &pv, &ei, &da, &s.CertificateID, &subs, &s.Will, &ca, &ua); err != nil {
		return s, err
	}
	s.ProtocolVersion, s.ExpiryInterval = byte(pv), uint32(ei)
	s.Will = unblob(s.Will)
	s.DisconnectedAt, s.CreatedAt, s.UpdatedAt = fromMicros(da), fromMicros(ca), fromMicros(ua)
	var err error
	if s.Subscriptions, err = decodeSubs(subs); err != nil {
		return s, fmt.Errorf("session %s: subscriptions: %w", s.ClientID, err)
	}
	return s, nil
}

func (t *tx) Session(clientID string) (store.Session, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+sessionCols+` FROM sessions WHERE client_id = ?`, clientID)
	s, err := scanSession(row)
	if err != nil {
		return store.Session{}, notFound("session "+clientID, err)
	}
	return s, nil
}

// PutSession inserts the session with next_seq 1, or updates every column
// of an existing one but next_seq. It must not be INSERT OR REPLACE: that
// deletes the old row, and the cascade would empty the queue.
func (t *tx) PutSession(s store.Session) error {
	op := "put session " + s.ClientID
	subs, err := encodeSubs(s.Subscriptions)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = t.execPrepared(op,
		`INSERT INTO sessions (`+sessionCols+`, next_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (client_id) DO UPDATE SET protocol_version = excluded.protocol_version,
			expiry_interval = excluded.expiry_interval, disconnected_at = excluded.disconnected_at,
			certificate_id = excluded.certificate_id, subscriptions = excluded.subscriptions,
			will = excluded.will, created_at = excluded.created_at, updated_at = excluded.updated_at`,
		s.ClientID, int64(s.ProtocolVersion), int64(s.ExpiryInterval), toMicros(s.DisconnectedAt),
		s.CertificateID, subs, blob(s.Will), toMicros(s.CreatedAt), toMicros(s.UpdatedAt))
	return err
}

// DeleteSession deletes the row; ON DELETE CASCADE deletes its queue in the
// same statement.
func (t *tx) DeleteSession(clientID string) error {
	return t.execOne("delete session "+clientID, `DELETE FROM sessions WHERE client_id = ?`, clientID)
}

func (t *tx) ListSessions(p store.Page) ([]store.Session, string, error) {
	const op = "list sessions"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curSession)
	if err != nil {
		return nil, "", err
	}
	rows, err := t.q.QueryContext(t.ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE client_id > ? ORDER BY client_id LIMIT ?`, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanSession)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curSession, out[n-1].ClientID)
	}
	return out, next, nil
}
