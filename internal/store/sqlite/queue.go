package sqlite

import (
	"fmt"
	"slices"

	"github.com/moat-iot/moat/internal/store"
)

// Queued messages live in session_queue, keyed by (client_id, seq): the
// primary key is the index QueuedMessages walks, in Seq order, and
// DeleteQueuedMessages and UpdateQueuedMessage look up. Seq comes from the
// session row's next_seq, which only grows, so a Seq is never reused while
// the session exists, whatever is deleted and however often the database is
// reopened.

const queueCols = `client_id, seq, topic, payload, qos, retain, properties, packet_id, sent, expires_at, created_at`

// The hot statements, run through the statement cache (tx.prepared).
const (
	reserveSeqsSQL = `UPDATE sessions SET next_seq = next_seq + ? WHERE client_id = ? RETURNING next_seq`
	enqueueSQL     = `INSERT INTO session_queue (` + queueCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	dequeueSQL     = `DELETE FROM session_queue WHERE client_id = ? AND seq = ?`
	queuedSQL      = `SELECT ` + queueCols + ` FROM session_queue WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?`
)

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func scanQueued(sc interface{ Scan(...any) error }) (store.QueuedMessage, error) {
	var m store.QueuedMessage
	var qos, retain, pid, sent, ea, ca int64
	err := sc.Scan(&m.ClientID, &m.Seq, &m.Topic, &m.Payload, &qos, &retain, &m.Properties, &pid, &sent, &ea, &ca)
	m.Payload, m.Properties = unblob(m.Payload), unblob(m.Properties)
	m.QoS, m.Retain, m.PacketID, m.Sent = byte(qos), retain != 0, uint16(pid), sent != 0
	m.ExpiresAt, m.CreatedAt = fromMicros(ea), fromMicros(ca)
	return m, err
}

// EnqueueMessages reserves a block of Seqs on each session with one UPDATE
// ... RETURNING (sessions in client-id order, the lock order store/postgres
// will need too), then inserts the messages with one prepared statement.
// Within a session, Seqs follow the order of ms.
func (t *tx) EnqueueMessages(ms []store.QueuedMessage) ([]store.QueuedMessage, error) {
	const op = "enqueue messages"
	if !t.write {
		return nil, fmt.Errorf("%s: %w", op, errReadOnly)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	// next[id] is the next Seq to hand out for session id.
	next := make(map[string]int64, 1)
	ids := make([]string, 0, 1)
	for _, m := range ms {
		if _, ok := next[m.ClientID]; !ok {
			ids = append(ids, m.ClientID)
		}
		next[m.ClientID]++ // the count, for now
	}
	slices.Sort(ids)
	reserve, err := t.prepared(op, reserveSeqsSQL)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		n := next[id]
		var end int64 // next_seq after the reservation
		if err := reserve.QueryRowContext(t.ctx, n, id).Scan(&end); err != nil {
			return nil, notFound(op+": session "+id, err)
		}
		next[id] = end - n
	}
	out := make([]store.QueuedMessage, len(ms))
	for i, m := range ms {
		m.Seq = next[m.ClientID]
		next[m.ClientID]++
		if _, err := t.execPrepared(op, enqueueSQL,
			m.ClientID, m.Seq, m.Topic, blob(m.Payload), int64(m.QoS), boolInt(m.Retain), blob(m.Properties),
			int64(m.PacketID), boolInt(m.Sent), toMicros(m.ExpiresAt), toMicros(m.CreatedAt)); err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

func (t *tx) UpdateQueuedMessage(m store.QueuedMessage) error {
	return t.execOne(fmt.Sprintf("update queued message %s/%d", m.ClientID, m.Seq),
		`UPDATE session_queue SET packet_id = ?, sent = ? WHERE client_id = ? AND seq = ?`,
		int64(m.PacketID), boolInt(m.Sent), m.ClientID, m.Seq)
}

func (t *tx) DeleteQueuedMessages(clientID string, seqs []int64) error {
	op := "delete queued messages " + clientID
	for _, seq := range seqs {
		if _, err := t.execPrepared(op, dequeueSQL, clientID, seq); err != nil {
			return err
		}
	}
	return nil
}

// QueuedMessages caps limit like a Page: <= 0 is 100, above 1000 is 1000.
func (t *tx) QueuedMessages(clientID string, after int64, n int) ([]store.QueuedMessage, error) {
	op := "queued messages " + clientID
	rows, err := t.q.QueryContext(t.ctx, queuedSQL, clientID, after, limit(store.Page{Limit: n}))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanQueued)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
