package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// helperSessions are the sessions TestHelperEnqueuer writes to.
var helperSessions = []string{"k0", "k1", "k2", "k3"}

// TestHelperEnqueuer is not a test: TestStore_EnqueueDurableUnderKill runs
// it in a child process. It creates helperSessions, then enqueues two
// messages per Update (to two sessions) from several goroutines, and
// prints "ack CLIENT SEQ PAYLOAD" for each message once its Update returns,
// until it is killed.
func TestHelperEnqueuer(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestStore_EnqueueDurableUnderKill")
	}
	fail := func(what string, err error) {
		fmt.Fprintln(os.Stderr, what+":", err)
		os.Exit(2)
	}
	s, err := Open(path, Options{})
	if err != nil {
		fail("open", err)
	}
	err = s.Update(context.Background(), func(tx store.Tx) error {
		for _, id := range helperSessions {
			if err := tx.PutSession(store.Session{ClientID: id, ProtocolVersion: 5}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail("put sessions", err)
	}
	var next atomic.Int64
	var mu sync.Mutex
	for w := range 8 {
		go func() {
			for {
				i := next.Add(1)
				ms := []store.QueuedMessage{
					{ClientID: helperSessions[w%4], Topic: "t", Payload: fmt.Appendf(nil, "p-%d-a", i), QoS: 1},
					{ClientID: helperSessions[(w+1)%4], Topic: "t", Payload: fmt.Appendf(nil, "p-%d-b", i), QoS: 1},
				}
				var out []store.QueuedMessage
				err := s.Update(context.Background(), func(tx store.Tx) error {
					var err error
					out, err = tx.EnqueueMessages(ms)
					return err
				})
				if err != nil {
					fail("update", err)
				}
				var b strings.Builder
				for _, m := range out {
					fmt.Fprintf(&b, "ack %s %d %s\n", m.ClientID, m.Seq, m.Payload)
				}
				mu.Lock()
				os.Stdout.WriteString(b.String()) // unbuffered: one write(2)
				mu.Unlock()
			}
		}()
	}
	select {} // until killed
}

// TestStore_EnqueueDurableUnderKill checks that every queued message
// acknowledged to a process survives SIGKILL of that process, under the
// Seq it was given.
func TestStore_EnqueueDurableUnderKill(t *testing.T) {
	path, acks := killAfterAcks(t, "TestHelperEnqueuer", 400)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx store.Tx) error {
		for _, a := range acks {
			f := strings.Fields(a)
			if len(f) != 3 {
				return fmt.Errorf("bad ack line %q", a)
			}
			seq, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return fmt.Errorf("bad ack line %q", a)
			}
			ms, err := tx.QueuedMessages(f[0], seq-1, 1)
			if err != nil {
				return err
			}
			if len(ms) != 1 || ms[0].Seq != seq || string(ms[0].Payload) != f[2] {
				return fmt.Errorf("acknowledged %s/%d (%s): found %+v", f[0], seq, f[2], ms)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged queued messages survived SIGKILL", len(acks))
}

// TestQueue_SeqAfterReopen checks that Seqs keep growing across Close and
// Open, even when the whole queue was deleted before.
func TestQueue_SeqAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moat.db")
	ctx := context.Background()
	var last int64
	for round := range 3 {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Update(ctx, func(tx store.Tx) error {
			if round == 0 {
				if err := tx.PutSession(store.Session{ClientID: "c"}); err != nil {
					return err
				}
			}
			out, err := tx.EnqueueMessages([]store.QueuedMessage{{ClientID: "c"}, {ClientID: "c"}})
			if err != nil {
				return err
			}
			if out[0].Seq != last+1 || out[1].Seq != last+2 {
				return fmt.Errorf("round %d: Seqs %d, %d after %d", round, out[0].Seq, out[1].Seq, last)
			}
			last = out[1].Seq
			return tx.DeleteQueuedMessages("c", []int64{out[0].Seq, out[1].Seq})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpen_UpgradeFromV1 checks that a database made by the first release
// (migration 1 only) upgrades in place: its rows are kept and the MQTT
// tables work.
func TestOpen_UpgradeFromV1(t *testing.T) {
	ctx := context.Background()
	s := openFromVersion(t, 1, func(ctx context.Context, conn *sql.Conn) {
		if _, err := conn.ExecContext(ctx, `INSERT INTO things (name, id, type_name, attributes, version, created_at, updated_at)
			VALUES ('old', '1', '', '{}', 1, 0, 0)`); err != nil {
			t.Fatal(err)
		}
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Thing("old"); err != nil {
			return err
		}
		if err := tx.PutSession(store.Session{ClientID: "c"}); err != nil {
			return err
		}
		if _, err := tx.EnqueueMessages([]store.QueuedMessage{{ClientID: "c"}}); err != nil {
			return err
		}
		return tx.PutRetained(store.Retained{Topic: "a"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, max int
	if err := s.wconn.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != schemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, max, len(migrations), schemaVersion())
	}
}

// TestBlobStorage checks that binary columns hold BLOB values (BYTEA gives
// them NUMERIC affinity in SQLite, which must not turn "42" into 42) and
// that an empty value is an empty BLOB, not NULL.
func TestBlobStorage(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRetained(store.Retained{Topic: "n", Payload: []byte("42"), Properties: nil}); err != nil {
			return err
		}
		if err := tx.PutSession(store.Session{ClientID: "c", Will: []byte("1.5")}); err != nil {
			return err
		}
		_, err := tx.EnqueueMessages([]store.QueuedMessage{{ClientID: "c", Payload: []byte("7"), Properties: []byte{}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT typeof(payload) || ' ' || hex(payload) || ' ' || typeof(properties) || ' ' || length(properties) FROM retained`, "blob 3432 blob 0"},
		{`SELECT typeof(will) || ' ' || hex(will) FROM sessions`, "blob 312E35"},
		{`SELECT typeof(payload) || ' ' || hex(payload) || ' ' || typeof(properties) || ' ' || length(properties) FROM session_queue`, "blob 37 blob 0"},
	} {
		var got string
		if err := s.wconn.QueryRowContext(ctx, c.query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
	}
	err = s.View(ctx, func(tx store.Tx) error {
		r, err := tx.Retained("n")
		if err == nil && !bytes.Equal(r.Payload, []byte("42")) {
			err = fmt.Errorf("payload %q", r.Payload)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatementCache checks that the hot statements are prepared once per
// transaction, however often they run.
func TestStatementCache(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error { return tx.PutSession(store.Session{ClientID: "c"}) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(stx store.Tx) error {
		tx := stx.(*tx)
		for i := range 3 {
			if _, err := tx.EnqueueMessages([]store.QueuedMessage{{ClientID: "c"}}); err != nil {
				return err
			}
			if err := tx.DeleteQueuedMessages("c", []int64{int64(i + 1)}); err != nil {
				return err
			}
		}
		if len(tx.stmts) != 3 {
			return fmt.Errorf("%d cached statements, want 3 (reserve, insert, delete)", len(tx.stmts))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
