package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// DeviceCA is the CA id under which a CRL of moat's own device CA (the CA
// of CreateKeysAndCertificate) is kept: device certificates it issued have
// no CACertificateID.
const DeviceCA = ""

// MaxCRLFile bounds the size of one CRL file, in bytes (64 MiB: about a
// million revoked serials).
const MaxCRLFile = 64 << 20

// DefaultCRLInterval is how often CRL files are checked for a change.
const DefaultCRLInterval = 250 * time.Millisecond

// CRL load failures, matched with errors.Is. A file that fails to load
// leaves the CRL loaded before from it in force.
var (
	// ErrCRLParse: the file is neither a PEM "X509 CRL" block nor a DER
	// CertificateList.
	ErrCRLParse = errors.New("not a PEM or DER certificate revocation list")
	// ErrCRLIssuer: no registered CA (nor the device CA) signed the CRL.
	ErrCRLIssuer = errors.New("the CRL is signed by no registered CA nor by moat's device CA")
	// ErrCRLTooLarge: the file is larger than MaxCRLFile.
	ErrCRLTooLarge = fmt.Errorf("CRL file larger than %d bytes", MaxCRLFile)
)

// ParseCRL parses one certificate revocation list given as PEM (the first
// "X509 CRL" block) or as DER. It does not check the signature.
func ParseCRL(b []byte) (*x509.RevocationList, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, fmt.Errorf("%w: PEM block %q, want \"X509 CRL\"", ErrCRLParse, blk.Type)
		}
		b = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCRLParse, err)
	}
	return crl, nil
}

// IssuerCA is a CA a CRL may belong to.
type IssuerCA struct {
	// ID is the registered CA's certificate id, or DeviceCA.
	ID   string
	Cert *x509.Certificate
}

// RegisteredCAs returns every registered CA certificate (any status), for
// matching CRLs to their issuer.
func (s *Service) RegisteredCAs(ctx context.Context) ([]IssuerCA, error) {
	var out []IssuerCA
	p := store.Page{Limit: 1000}
	for {
		cas, next, err := s.ListCAs(ctx, p, true)
		if err != nil {
			return nil, err
		}
		for _, c := range cas {
			cert, err := pki.ParseCertificatePEM(c.PEM)
			if err != nil {
				continue // checked at registration; never expected
			}
			out = append(out, IssuerCA{ID: c.ID, Cert: cert})
		}
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}

// FindIssuer returns the CA whose key signed crl: its subject must be the
// CRL's issuer and x509.RevocationList.CheckSignatureFrom must accept it
// (which also wants the CA to be a CA allowed to sign CRLs).
func FindIssuer(crl *x509.RevocationList, cas []IssuerCA) (IssuerCA, error) {
	for _, ca := range cas {
		if ca.Cert == nil || !bytes.Equal(crl.RawIssuer, ca.Cert.RawSubject) {
			continue
		}
		if crl.CheckSignatureFrom(ca.Cert) == nil {
			return ca, nil
		}
	}
	return IssuerCA{}, ErrCRLIssuer
}

// CRLOptions configure a CRLs set.
type CRLOptions struct {
	// Paths are the CRL files, one CRL each (--crl).
	Paths []string
	// CAs lists the CAs a CRL may belong to; called on every load.
	CAs func(ctx context.Context) ([]IssuerCA, error)
	// Interval is how often the files are checked for a change (their
	// modification time and size). Zero: DefaultCRLInterval.
	Interval time.Duration
	// OnRevoked, if set, is called after a load added serials to a CA's
	// revoked set, with that CA's id, so that live connections are
	// re-checked.
	OnRevoked func(caID string)
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// Registerer, if set, gets moat_crl_revoked_serials{ca} and
	// moat_crl_reloads_total{result}.
	Registerer prometheus.Registerer
	// Now is the clock for staleness (NextUpdate); nil: time.Now.
	Now func() time.Time
}

// CRLs holds the certificate revocation lists of the --crl files and
// reloads a file when it changes, without a restart.
//
// Lifecycle: NewCRLs, then Reload once (before serving, so the CRLs are
// in force from the first connection), then Start; Close stops the
// watcher. Revoked may be called at any time from any goroutine.
//
// Rules: a file is matched to its CA by signature. A file that cannot be
// read, parsed or verified is logged and counted, and the CRL loaded from
// it before (if any) stays in force; it is tried again when it changes. A
// CRL whose NextUpdate has passed stays in force and is logged as stale.
// A CRL applies only to certificates whose issuer is the CA itself (not
// to certificates of an intermediate CA below it).
type CRLs struct {
	o       CRLOptions
	log     *slog.Logger
	entries atomic.Pointer[map[string][]*crlEntry] // CA id -> lists, read by Revoked

	mu     sync.Mutex           // serialises Reload; guards the fields below
	byPath map[string]*crlEntry // in force, per file
	seen   map[string]fileStamp // last stamp tried, per file
	stale  map[string]bool      // stale already logged, per file

	revoked *prometheus.GaugeVec
	reloads *prometheus.CounterVec

	cancel context.CancelFunc
	done   chan struct{}
}

type fileStamp struct {
	mod  time.Time
	size int64
	err  string // the stat error, so a missing file is logged once
}

type crlEntry struct {
	path       string
	caID       string
	issuer     []byte // RawSubject of the CA
	serials    map[string]struct{}
	nextUpdate time.Time
}

// NewCRLs returns the set for o.Paths with nothing loaded yet.
func NewCRLs(o CRLOptions) (*CRLs, error) {
	if o.CAs == nil {
		return nil, errors.New("crl: CRLOptions.CAs is required")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultCRLInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &CRLs{o: o, log: o.Logger, byPath: map[string]*crlEntry{}, seen: map[string]fileStamp{}, stale: map[string]bool{},
		revoked: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "moat_crl_revoked_serials",
			Help: "Serials revoked by the CRL files (--crl), per CA id (empty: moat's device CA)."}, []string{"ca"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_crl_reloads_total",
			Help: "CRL file loads by result (ok, failed)."}, []string{"result"}),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if o.Registerer != nil {
		for _, m := range []prometheus.Collector{c.revoked, c.reloads} {
			if err := o.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("crl metrics: %w", err)
			}
		}
	}
	empty := map[string][]*crlEntry{}
	c.entries.Store(&empty)
	return c, nil
}

// Revoked reports whether cert, a device certificate whose record names
// the CA caID (DeviceCA for moat's own), is on a CRL of that CA.
func (c *CRLs) Revoked(caID string, cert *x509.Certificate) bool {
	if c == nil || cert == nil || cert.SerialNumber == nil {
		return false
	}
	serial := cert.SerialNumber.String()
	for _, e := range (*c.entries.Load())[caID] {
		if _, ok := e.serials[serial]; ok && bytes.Equal(cert.RawIssuer, e.issuer) {
			return true
		}
	}
	return false
}

// Reload checks every file once and loads those that changed since they
// were last tried. It returns the load errors, joined (they are logged
// too).
func (c *CRLs) Reload(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	changed := map[string]bool{} // CA ids that gained serials
	for _, path := range c.o.Paths {
		e, added, err := c.loadIfChanged(ctx, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e != nil && added {
			changed[e.caID] = true
		}
		c.checkStale(path)
	}
	c.publish()
	if c.o.OnRevoked != nil {
		for id := range changed {
			c.o.OnRevoked(id)
		}
	}
	return errors.Join(errs...)
}

// loadIfChanged loads path if its stamp changed. It returns the entry
// now in force (nil if unchanged) and whether it added serials. The
// caller holds c.mu.
func (c *CRLs) loadIfChanged(ctx context.Context, path string) (*crlEntry, bool, error) {
	fi, err := os.Stat(path)
	st := fileStamp{}
	if err != nil {
		st.err = err.Error()
	} else {
		st.mod, st.size = fi.ModTime(), fi.Size()
	}
	if prev, ok := c.seen[path]; ok && prev.mod.Equal(st.mod) && prev.size == st.size && prev.err == st.err {
		return nil, false, nil
	}
	c.seen[path] = st
	if err != nil {
		return nil, false, c.fail(path, fmt.Errorf("crl %s: %w", path, err))
	}
	e, err := c.load(ctx, path)
	if err != nil {
		return nil, false, c.fail(path, fmt.Errorf("crl %s: %w", path, err))
	}
	old := c.byPath[path]
	added := false
	for s := range e.serials {
		if old == nil || old.caID != e.caID {
			added = true
			break
		}
		if _, ok := old.serials[s]; !ok {
			added = true
			break
		}
	}
	c.byPath[path] = e
	delete(c.stale, path)
	c.reloads.WithLabelValues("ok").Inc()
	c.log.Info("crl loaded", "file", path, "ca", caLabel(e.caID), "revoked", len(e.serials), "next_update", e.nextUpdate)
	return e, added, nil
}

func (c *CRLs) fail(path string, err error) error {
	c.reloads.WithLabelValues("failed").Inc()
	if _, ok := c.byPath[path]; ok {
		c.log.Error("crl not reloaded; the previous one stays in force", "file", path, "err", err)
	} else {
		c.log.Error("crl not loaded", "file", path, "err", err)
	}
	return err
}

// load reads, parses and verifies one file.
func (c *CRLs) load(ctx context.Context, path string) (*crlEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCRLFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxCRLFile {
		return nil, ErrCRLTooLarge
	}
	crl, err := ParseCRL(b)
	if err != nil {
		return nil, err
	}
	cas, err := c.o.CAs(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing CAs: %w", err)
	}
	ca, err := FindIssuer(crl, cas)
	if err != nil {
		return nil, err
	}
	e := &crlEntry{path: path, caID: ca.ID, issuer: ca.Cert.RawSubject, nextUpdate: crl.NextUpdate,
		serials: make(map[string]struct{}, len(crl.RevokedCertificateEntries))}
	for _, r := range crl.RevokedCertificateEntries {
		if r.SerialNumber != nil {
			e.serials[r.SerialNumber.String()] = struct{}{}
		}
	}
	return e, nil
}

// checkStale logs, once per load, a CRL whose NextUpdate has passed. The
// caller holds c.mu.
func (c *CRLs) checkStale(path string) {
	e := c.byPath[path]
	if e == nil || e.nextUpdate.IsZero() || c.stale[path] || !c.o.Now().After(e.nextUpdate) {
		return
	}
	c.stale[path] = true
	c.log.Warn("crl is stale (its next update has passed); it stays in force", "file", path, "ca", caLabel(e.caID), "next_update", e.nextUpdate)
}

// Stale reports whether the CRL in force from path is past its
// NextUpdate.
func (c *CRLs) Stale(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byPath[path]
	return e != nil && !e.nextUpdate.IsZero() && c.o.Now().After(e.nextUpdate)
}

// publish makes byPath visible to Revoked and updates the gauge. The
// caller holds c.mu.
func (c *CRLs) publish() {
	m := map[string][]*crlEntry{}
	for _, path := range c.o.Paths {
		if e := c.byPath[path]; e != nil {
			m[e.caID] = append(m[e.caID], e)
		}
	}
	c.entries.Store(&m)
	c.revoked.Reset()
	for id, es := range m {
		n := 0
		for _, e := range es {
			n += len(e.serials)
		}
		c.revoked.WithLabelValues(caLabel(id)).Set(float64(n))
	}
}

func caLabel(id string) string {
	if id == DeviceCA {
		return "device-ca"
	}
	return id
}

// Start runs the watcher: every Interval, Reload. Close stops it.
func (c *CRLs) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.o.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = c.Reload(ctx) // errors are logged
			}
		}
	}()
}

// Close stops the watcher started by Start and waits for it.
func (c *CRLs) Close() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}
