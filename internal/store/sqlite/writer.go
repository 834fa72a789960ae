package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// Request states. A request starts pending; exactly one of the writer
// (pending -> running) and its cancelled caller (pending -> cancelled) wins.
const (
	statePending int32 = iota
	stateRunning
	stateCancelled
)

// request is one queued Update.
type request struct {
	fn    func(store.Tx) error
	state atomic.Int32
	done  chan result // buffered(1); the writer sends exactly once if it ran fn
}

// result is what the writer tells the caller of Update.
type result struct {
	err      error
	panicked bool
	panicVal any
}

// writer is the single writer goroutine. It runs until Close closes s.queue
// and the queue is drained, then closes s.done. It alone uses s.wconn.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*request, 0, s.opts.MaxBatch)
	for {
		r, ok := <-s.queue
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		open := true
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					open = false
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch) // drop references to finished requests
		if !open {
			return
		}
	}
}

// runBatch commits the requests of one batch in one transaction and answers
// each of them. Requests cancelled while queued are skipped.
func (s *Store) runBatch(batch []*request) {
	var run []*request
	for _, r := range batch {
		if r.state.CompareAndSwap(statePending, stateRunning) {
			run = append(run, r)
		}
	}
	if len(run) == 0 {
		return
	}
	start := time.Now()
	results := make([]result, len(run))
	err := s.commitBatch(run, results)
	s.opts.Observe("commit", time.Since(start))
	for i, r := range run {
		res := results[i]
		if err != nil && res.err == nil && !res.panicked {
			res.err = err
		}
		r.done <- res
	}
}

// commitBatch runs every request inside its own savepoint of one
// transaction and commits. It fills results with each fn's own outcome and
// returns the error, if any, that undid the whole batch.
func (s *Store) commitBatch(run []*request, results []result) (err error) {
	// Background context: cancelling a caller must not interrupt a
	// statement, which would roll back the whole batch.
	ctx := context.Background()
	sqltx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite update: begin: %w", err)
	}
	defer func() {
		if err != nil {
			sqltx.Rollback()
		}
	}()
	t := &tx{ctx: ctx, q: sqltx, write: true}
	for i, r := range run {
		if _, err := sqltx.ExecContext(ctx, "SAVEPOINT u"); err != nil {
			return fmt.Errorf("sqlite update: savepoint: %w", err)
		}
		results[i] = callFn(r.fn, t)
		if results[i].err == nil && !results[i].panicked {
			if _, err := sqltx.ExecContext(ctx, "RELEASE u"); err != nil {
				return fmt.Errorf("sqlite update: release: %w", err)
			}
			continue
		}
		// Undo this fn's writes only. If SQLite already rolled the whole
		// transaction back (it does on SQLITE_FULL, SQLITE_IOERR, ...), the
		// savepoint is gone and the batch is lost: fail it.
		if _, err := sqltx.ExecContext(ctx, "ROLLBACK TO u"); err != nil {
			return fmt.Errorf("sqlite update: rollback to savepoint: %w", err)
		}
		if _, err := sqltx.ExecContext(ctx, "RELEASE u"); err != nil {
			return fmt.Errorf("sqlite update: release: %w", err)
		}
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("sqlite update: commit: %w", err)
	}
	return nil
}

// callFn runs fn, turning a panic into a result that Update re-raises on the
// caller's goroutine, so a bad fn cannot kill the writer.
func callFn(fn func(store.Tx) error, t *tx) (res result) {
	defer func() {
		if v := recover(); v != nil {
			res = result{panicked: true, panicVal: v}
		}
	}()
	return result{err: fn(t)}
}

// execer is what Tx methods need from *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}
