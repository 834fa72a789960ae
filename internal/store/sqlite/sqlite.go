package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/moat-iot/moat/internal/store"
)

// Interface guard.
var _ store.Store = (*Store)(nil)

// Defaults for the zero fields of Options.
const (
	DefaultReadConns   = 4
	DefaultMaxBatch    = 128
	DefaultQueueLen    = 1024
	DefaultBusyTimeout = 5 * time.Second
)

// cacheKiB is each connection's page cache (PRAGMA cache_size), in KiB.
// SQLite's default, 2 MiB, does not hold the upper levels of the indexes
// of a large registry: at 1,000,000 things, a DescribeThing or a page of
// ListThings then reads most of its pages from the OS again (a pread and
// a copy each). 8 MiB holds them; the cache grows only as pages are read,
// so a small database does not pay for it. See BENCHMARKS.md, "Registry".
const cacheKiB = 8192

// Options configure Open. The zero value is valid: every zero field takes
// its default.
type Options struct {
	// ReadConns is the size of the read pool used by View. Zero means
	// max(DefaultReadConns, GOMAXPROCS).
	ReadConns int
	// MaxBatch is the largest number of Updates committed in one database
	// transaction. Zero means DefaultMaxBatch (128); 1 turns group commit
	// off.
	MaxBatch int
	// QueueLen is how many Updates may wait for the writer before Update
	// blocks (until its context ends). Zero means DefaultQueueLen (1024).
	QueueLen int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before it fails with SQLITE_BUSY. Zero means
	// DefaultBusyTimeout (5 s).
	BusyTimeout time.Duration
	// Observe, if set, is called with the latency of each transaction:
	// "view" (one View, begin to end), "update" (one Update, from the call
	// to its acknowledgement, queueing included) and "commit" (one
	// group-commit batch, BEGIN to durable COMMIT). It runs on the calling
	// or writer goroutine and must be fast and safe for concurrent use.
	// Nil means no observation.
	Observe func(op string, d time.Duration)
}

func (o Options) withDefaults() (Options, error) {
	if o.ReadConns < 0 || o.MaxBatch < 0 || o.QueueLen < 0 || o.BusyTimeout < 0 {
		return o, errors.New("sqlite: negative option")
	}
	if o.ReadConns == 0 {
		o.ReadConns = max(DefaultReadConns, runtime.GOMAXPROCS(0))
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.QueueLen == 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.Observe == nil {
		o.Observe = func(string, time.Duration) {}
	}
	return o, nil
}

// Store is a store.Store on one SQLite file. It is safe for concurrent use.
//
// Ownership: Open starts the writer goroutine; the Store owns it and Close
// waits for it (s.done). Only the writer goroutine uses s.wconn. s.mu guards
// s.closed and is held (read-locked) by Update only while it hands a request
// to s.queue, so that Close (write-locked) can close the queue knowing no
// send is in flight. Lock order: s.mu only; nothing else is locked.
type Store struct {
	path  string
	opts  Options
	wdb   *sql.DB   // one connection; used only through wconn
	wconn *sql.Conn // owned by the writer goroutine
	rdb   *sql.DB   // read pool, query_only

	mu     sync.RWMutex
	closed bool
	queue  chan *request
	done   chan struct{} // closed when the writer goroutine has returned

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path, applies pending
// migrations and starts the writer. It fails if the database was written by
// a newer moat (its schema version is unknown to this code).
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: opts}
	if err := s.openPools(); err != nil {
		return nil, err
	}
	if err := migrate(s.wconn); err != nil {
		s.closePools()
		return nil, err
	}
	if err := tightenPerms(path); err != nil {
		s.closePools()
		return nil, err
	}
	s.queue = make(chan *request, opts.QueueLen)
	s.done = make(chan struct{})
	go s.writer()
	return s, nil
}

func (s *Store) openPools() error {
	ms := s.opts.BusyTimeout.Milliseconds()
	base := fileURI(s.path)
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=cache_size(-%d)", ms, cacheKiB)
	// temp_store=MEMORY keeps savepoint sub-journals off disk.
	wdsn := base + "?" + common + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	rdsn := base + "?" + common + "&_pragma=query_only(1)"

	wdb, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return fmt.Errorf("sqlite open %s: %w", s.path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	conn, err := wdb.Conn(context.Background())
	if err != nil {
		wdb.Close()
		return fmt.Errorf("sqlite open %s: %w", s.path, err)
	}
	// journal_mode is persistent; check that WAL really took (it cannot on
	// some file systems).
	var mode string
	if err := conn.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		conn.Close()
		wdb.Close()
		if err == nil {
			err = fmt.Errorf("journal_mode is %q, want wal", mode)
		}
		return fmt.Errorf("sqlite open %s: %w", s.path, err)
	}

	rdb, err := sql.Open("sqlite", rdsn)
	if err != nil {
		conn.Close()
		wdb.Close()
		return fmt.Errorf("sqlite open %s: %w", s.path, err)
	}
	rdb.SetMaxOpenConns(s.opts.ReadConns)
	rdb.SetMaxIdleConns(s.opts.ReadConns)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)
	s.wdb, s.wconn, s.rdb = wdb, conn, rdb
	return nil
}

// fileURI is path as an SQLite file: URI (escaped, so that '?', '#' and
// '%' in a directory name stay part of the path).
func fileURI(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath()
}

func (s *Store) closePools() error {
	err := s.wconn.Close()
	err = errors.Join(err, s.wdb.Close(), s.rdb.Close())
	return err
}

// createPrivate creates path with mode 0600 if it does not exist, so that
// SQLite (which gives -wal and -shm the database file's mode) never creates
// any of the three files with the process umask's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite open: %w", err)
	}
	return f.Close()
}

// tightenPerms makes the database and its -wal and -shm files 0600 if any
// of them is readable or writable by group or others.
func tightenPerms(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite open: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("sqlite open: %w", err)
			}
		}
	}
	return nil
}

// View runs fn in a read-only transaction on the read pool. The transaction
// sees one snapshot: every commit that finished before its first read and
// none after.
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return store.ErrClosed
	}
	start := time.Now()
	defer func() { s.opts.Observe("view", time.Since(start)) }()
	sqltx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		if errors.Is(err, sql.ErrConnDone) || isDBClosed(err) {
			return store.ErrClosed
		}
		return fmt.Errorf("sqlite view: %w", err)
	}
	// Read-only: rolling back is the cheap way to end it.
	defer sqltx.Rollback()
	return fn(&tx{ctx: ctx, q: sqltx})
}

func isDBClosed(err error) bool {
	return err != nil && err.Error() == "sql: database is closed"
}

// Update queues fn for the writer goroutine and waits until its batch is
// durably committed (or fn failed and its writes were rolled back). If ctx
// ends while the request is still queued, Update returns ctx.Err() and fn
// never runs; once the writer has started fn, Update waits for the outcome
// so that its return value always tells the truth about durability.
//
// fn runs on the writer goroutine: it must not call Update (that would
// deadlock) and must not keep tx. Statements inside fn do not observe ctx:
// interrupting a statement would abort the whole batch's transaction.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	start := time.Now()
	defer func() { s.opts.Observe("update", time.Since(start)) }()
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{fn: fn, done: make(chan result, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.queue <- r:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	var res result
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(statePending, stateCancelled) {
			return ctx.Err()
		}
		res = <-r.done // the writer has it; wait for the truth
	}
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// Close stops accepting Updates (later calls return store.ErrClosed), waits
// for the writer to commit everything already queued, checkpoints the WAL
// into the database file and closes every connection. Views already running
// finish; new ones return store.ErrClosed. Calling Close again returns the
// first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue) // no Update is sending: they hold s.mu.RLock to send
		s.mu.Unlock()
		<-s.done

		ctx := context.Background()
		_, err := s.wconn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		if err != nil {
			err = fmt.Errorf("sqlite close: checkpoint: %w", err)
		}
		if cerr := s.closePools(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("sqlite close: %w", cerr))
		}
		s.closeErr = err
	})
	return s.closeErr
}
