package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// TestOpen_Reopen checks that a database reopens after a clean Close with
// its data, and that migrating again is a no-op. The path has characters
// that mean something in a URI.
func TestOpen_Reopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir #1 ?x=%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "moat.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertThing(store.Thing{Name: "kept", ID: "1", Version: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean Close checkpoints: the WAL is empty (or gone).
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL has %d bytes after Close", fi.Size())
	}
	for range 2 {
		s, err = Open(path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		err = s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Thing("kept")
			return err
		})
		if err != nil {
			t.Fatalf("after reopen: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	var n, max int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != schemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, max, len(migrations), schemaVersion())
	}
}

// TestOpen_SchemaTooNew checks that a database from a newer moat is
// refused with ErrSchemaTooNew and left untouched.
func TestOpen_SchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moat.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, schemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
}

// TestOpen_Pragmas checks the settings durability and integrity rely on,
// on the writer and on a reader.
func TestOpen_Pragmas(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"query_only", "0"},
		{"cache_size", fmt.Sprint(-cacheKiB)},
	} {
		var got string
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer: PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"query_only", "1"},
		{"cache_size", fmt.Sprint(-cacheKiB)},
	} {
		var got string
		if err := s.rdb.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("reader: PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
}

// TestOpen_FileModes checks that the database, -wal and -shm files are
// 0600 even with a permissive umask, and that Open tightens a database file
// that is too open.
func TestOpen_FileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "moat.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertThing(store.Thing{Name: "a", ID: "a", Version: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	s.Close()

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("reopened database has mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestStore_GroupCommit checks that concurrent Updates share commits and
// that Observe sees every operation.
func TestStore_GroupCommit(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	s, err := Open(filepath.Join(t.TempDir(), "moat.db"), Options{Observe: func(op string, d time.Duration) {
		mu.Lock()
		counts[op]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx store.Tx) error {
				name := fmt.Sprintf("g-%d", i)
				return tx.InsertThing(store.Thing{Name: name, ID: name, Version: 1})
			})
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	s.View(context.Background(), func(store.Tx) error { return nil })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if failed.Load() != 0 {
		t.Fatalf("%d updates failed", failed.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if counts["update"] != n || counts["view"] != 1 {
		t.Fatalf("observed %v", counts)
	}
	if counts["commit"] >= n {
		t.Fatalf("%d commits for %d concurrent updates: no group commit", counts["commit"], n)
	}
	t.Logf("%d updates in %d commits", n, counts["commit"])
}

// rawDB opens path directly (no migrations) and closes it at the end of
// the test.
// openFromVersion makes a database as release v left it (migrations 1 to
// v), lets prepare write to it with plain SQL, then opens it with this
// code, which must upgrade it in place. The store is closed when the test
// ends.
func openFromVersion(t *testing.T, v int, prepare func(ctx context.Context, conn *sql.Conn)) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moat.db")
	ctx := context.Background()
	db := rawDB(t, path)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateSteps(conn, migrations[:v]); err != nil {
		t.Fatal(err)
	}
	prepare(ctx, conn)
	conn.Close()
	db.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open a version %d database: %v", v, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
