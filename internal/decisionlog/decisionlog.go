// Package decisionlog writes moat's policy decision log: one JSON line per
// authorization decision made for a device or an API caller, saying who
// asked (certificate or caller ARN, thing, client id, source IP), what
// for (action, resource ARN), the answer (ALLOWED, EXPLICIT_DENY,
// IMPLICIT_DENY) and the statement that decided it. Every deny is
// logged; allows only when Options.Allows is set.
//
// # Lifecycle
//
//  1. Open creates (or appends to) the file, mode 0600, and starts one
//     writer goroutine.
//  2. Decision queues an entry without blocking: when the bounded buffer
//     is full the entry is dropped and counted
//     (moat_decision_log_dropped_total). The broker's hot path never waits
//     for the disk.
//  3. The writer appends lines, flushing whenever the queue runs empty, and
//     rotates by size: when a line would take the file past MaxSize, the
//     file becomes PATH.1, PATH.1 becomes PATH.2, and so on up to
//     PATH.MaxFiles; the oldest is removed.
//  4. Close stops accepting entries, writes those already queued, flushes
//     and closes the file. Entries offered after Close are dropped and
//     counted.
//
// Count counts every decision, logged or not, in
// moat_policy_decisions_total{action,decision}; it is cheap enough for
// the hot path (an atomic add, no allocation, for moat's five MQTT
// actions).
package decisionlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/policy"
)

// FileName is the decision log's name inside the data dir.
const FileName = "decisions.log"

// Defaults for zero Options fields.
const (
	DefaultMaxSize  = 10 << 20 // bytes
	DefaultMaxFiles = 5
	DefaultBuffer   = 4096 // entries
)

// Entry is one decision.
type Entry struct {
	Time time.Time
	// Principal is the certificate id of a device, or the ARN of another
	// caller (a user, an assumed role, a custom authorizer).
	Principal string
	// Thing is the connection's thing, or "".
	Thing    string
	ClientID string
	// SourceIP is the client address without port, or "".
	SourceIP string
	// Action is the IoT action, e.g. "iot:Publish".
	Action string
	// Resource is the resource ARN as evaluated.
	Resource string
	Result   policy.Result
	// Policy, PolicyVersion, Statement (0-based index) and Sid name the
	// deciding statement; empty (Statement -1) for an implicit deny.
	Policy, PolicyVersion string
	Statement             int
	Sid                   string
	// Vars are the deciding statement's variables as resolved, if known.
	Vars []policy.ResolvedVar
	// Unresolved names the variables that made statements not apply, if
	// known (often why a request was implicitly denied).
	Unresolved []string
}

// EntryFromDecision fills the decision part of an Entry from d.
func EntryFromDecision(e Entry, d policy.Decision) Entry {
	e.Result, e.Policy, e.PolicyVersion, e.Statement, e.Sid = d.Result, d.Policy, d.PolicyVersion, d.Statement, d.Sid
	e.Vars = d.Vars
	e.Unresolved = nil
	for _, u := range d.Unresolved {
		if !contains(e.Unresolved, u.Variable) {
			e.Unresolved = append(e.Unresolved, u.Variable)
		}
	}
	return e
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// line is the JSON form of an Entry; its field order is the line's.
type line struct {
	Time          string            `json:"time"`
	Principal     string            `json:"principal"`
	Thing         string            `json:"thing,omitempty"`
	ClientID      string            `json:"clientId"`
	SourceIP      string            `json:"sourceIp,omitempty"`
	Action        string            `json:"action"`
	Resource      string            `json:"resource"`
	Decision      string            `json:"decision"`
	Policy        string            `json:"policy,omitempty"`
	PolicyVersion string            `json:"policyVersion,omitempty"`
	Statement     *int              `json:"statement,omitempty"`
	Sid           string            `json:"sid,omitempty"`
	Vars          map[string]string `json:"variables,omitempty"`
	Unresolved    []string          `json:"unresolved,omitempty"`
}

// MarshalJSON renders the entry as one decision-log line (without the
// newline).
func (e Entry) MarshalJSON() ([]byte, error) {
	l := line{
		Time: e.Time.UTC().Format(time.RFC3339Nano), Principal: e.Principal, Thing: e.Thing, ClientID: e.ClientID,
		SourceIP: e.SourceIP, Action: e.Action, Resource: e.Resource, Decision: e.Result.String(),
		Policy: e.Policy, PolicyVersion: e.PolicyVersion, Sid: e.Sid, Unresolved: e.Unresolved,
	}
	if e.Result != policy.ImplicitDeny && e.Statement >= 0 {
		st := e.Statement
		l.Statement = &st
	}
	if len(e.Vars) > 0 {
		l.Vars = make(map[string]string, len(e.Vars))
		for _, v := range e.Vars {
			l.Vars[v.Name] = v.Value
		}
	}
	return json.Marshal(l)
}

// Options configure a Log. Zero fields take the defaults.
type Options struct {
	// MaxSize is the size in bytes at which the file is rotated; 0 means
	// DefaultMaxSize (10 MiB). A single line longer than MaxSize is still
	// written, alone in its file.
	MaxSize int64
	// MaxFiles is how many rotated files are kept (PATH.1 newest ...
	// PATH.MaxFiles oldest); 0 means DefaultMaxFiles (5).
	MaxFiles int
	// Buffer is how many entries may wait for the writer; more are dropped
	// and counted. 0 means DefaultBuffer (4096).
	Buffer int
	// Allows asks for allowed decisions to be logged too; denies always
	// are.
	Allows bool
	// Registerer receives the metrics; nil means none.
	Registerer prometheus.Registerer
	// Logger reports write failures; nil means slog.Default().
	Logger *slog.Logger
}

// Log is an open decision log. Its methods are safe for concurrent use.
type Log struct {
	path string
	opts Options
	log  *slog.Logger

	ch      chan Entry
	quit    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once
	dropped atomic.Uint64

	decisions *prometheus.CounterVec
	fixed     [len(actions)][3]prometheus.Counter // by actions index, policy.Result
	drops     prometheus.Counter

	// Owned by the writer goroutine.
	f    *os.File
	w    *bufio.Writer
	size int64
	werr error // the last write error, reported once
}

// actions are the actions whose counters are resolved once.
var actions = [...]string{"iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Subscribe", "iot:Receive"}

// Open opens (creating it, mode 0600) the decision log at path and starts
// its writer. Close it when done.
func Open(path string, opts Options) (*Log, error) {
	l, err := newLog(path, opts)
	if err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// newLog is Open without starting the writer.
func newLog(path string, opts Options) (*Log, error) {
	if opts.MaxSize < 0 || opts.MaxFiles < 0 || opts.Buffer < 0 {
		return nil, errors.New("decision log: negative option")
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxFiles == 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.Buffer == 0 {
		opts.Buffer = DefaultBuffer
	}
	l := &Log{path: path, opts: opts, log: opts.Logger, ch: make(chan Entry, opts.Buffer),
		quit: make(chan struct{}), done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.Default()
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	l.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moat_policy_decisions_total", Help: "Policy decisions for devices and API callers by action and decision (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY).",
	}, []string{"action", "decision"})
	l.drops = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "moat_decision_log_dropped_total", Help: "Decision log entries dropped because the log's buffer was full or the log was closed.",
	})
	for i, a := range actions {
		for r := policy.ImplicitDeny; r <= policy.ExplicitDeny; r++ {
			l.fixed[i][r] = l.decisions.WithLabelValues(a, r.String())
		}
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(l.decisions); err != nil {
			l.f.Close()
			return nil, fmt.Errorf("decision log metrics: %w", err)
		}
		if err := opts.Registerer.Register(l.drops); err != nil {
			opts.Registerer.Unregister(l.decisions)
			l.f.Close()
			return nil, fmt.Errorf("decision log metrics: %w", err)
		}
	}
	return l, nil
}

// Path is the file written.
func (l *Log) Path() string { return l.path }

// Allows reports whether allowed decisions are logged.
func (l *Log) Allows() bool { return l.opts.Allows }

// Count counts one decision in moat_policy_decisions_total. Call it for
// every decision, logged or not.
func (l *Log) Count(action string, r policy.Result) {
	if r > policy.ExplicitDeny {
		r = policy.ImplicitDeny
	}
	for i := range actions {
		if actions[i] == action {
			l.fixed[i][r].Inc()
			return
		}
	}
	l.decisions.WithLabelValues(action, r.String()).Inc()
}

// Decision queues e for the log without blocking. An allowed decision is
// ignored unless Options.Allows; an entry that finds the buffer full, or
// the log closed, is dropped and counted. It does not count the decision
// (see Count).
func (l *Log) Decision(e Entry) {
	if e.Result == policy.Allowed && !l.opts.Allows {
		return
	}
	if l.closed.Load() {
		l.drop()
		return
	}
	select {
	case l.ch <- e:
	default:
		l.drop()
	}
}

func (l *Log) drop() {
	l.dropped.Add(1)
	l.drops.Inc()
}

// Dropped is how many entries were dropped so far.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Close writes the entries already queued, flushes and closes the file,
// and stops the writer. Later calls return nil.
func (l *Log) Close() error {
	var err error
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.quit)
		<-l.done
		err = l.w.Flush()
		if cerr := l.f.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

// run is the writer goroutine; Close waits for it.
func (l *Log) run() {
	defer close(l.done)
	for {
		select {
		case e := <-l.ch:
			l.write(e)
			l.drain()
			l.flush()
		case <-l.quit:
			l.drain()
			return
		}
	}
}

// drain writes what is queued now, without waiting for more.
func (l *Log) drain() {
	for {
		select {
		case e := <-l.ch:
			l.write(e)
		default:
			return
		}
	}
}

func (l *Log) write(e Entry) {
	b, err := json.Marshal(e)
	if err != nil { // cannot happen: every field marshals
		l.fail(err)
		return
	}
	b = append(b, '\n')
	if l.size > 0 && l.size+int64(len(b)) > l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			l.fail(err)
			return
		}
	}
	n, err := l.w.Write(b)
	l.size += int64(n)
	if err != nil {
		l.fail(err)
	}
}

func (l *Log) flush() {
	if err := l.w.Flush(); err != nil {
		l.fail(err)
		l.w.Reset(l.f) // drop what could not be written rather than wedge
	}
}

// fail reports a write error, once until writing works again.
func (l *Log) fail(err error) {
	if l.werr == nil || l.werr.Error() != err.Error() {
		l.log.Error("decision log write failed", "path", l.path, "err", err)
	}
	l.werr = err
}

// open opens the current file for appending.
func (l *Log) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("decision log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("decision log: %w", err)
	}
	if st.Mode().Perm() != 0o600 {
		// An existing file keeps its mode on open; tighten it.
		_ = f.Chmod(0o600)
	}
	l.f, l.size = f, st.Size()
	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		l.w.Reset(f)
	}
	return nil
}

// rotate shifts PATH.i to PATH.i+1 (dropping the oldest) and PATH to
// PATH.1, then opens a new PATH. If a rename fails, writing goes on in
// whatever file PATH then is.
func (l *Log) rotate() error {
	if err := l.w.Flush(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	n := l.opts.MaxFiles
	err := os.Remove(l.rotated(n))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	for i := n - 1; i >= 1 && err == nil; i-- {
		if err = os.Rename(l.rotated(i), l.rotated(i+1)); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		err = os.Rename(l.path, l.rotated(1))
	}
	if oerr := l.open(); oerr != nil {
		return errors.Join(err, oerr)
	}
	return err
}

func (l *Log) rotated(i int) string { return l.path + "." + strconv.Itoa(i) }
