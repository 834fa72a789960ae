package authorizer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/store"
)

// Store object kinds.
const (
	// Kind is the kind of authorizer objects, keyed by authorizer name.
	Kind = "iot/authorizer"
	// DefaultKind is the kind of the one object (key "default") that
	// names the default authorizer.
	DefaultKind = "iot/authorizer-default"
	defaultKey  = "default"
)

// Defaults of Options.
const (
	DefaultTimeout          = 5 * time.Second // AWS's Lambda timeout for authorizers
	DefaultMaxInFlight      = 64
	DefaultMaxResponseBytes = 64 << 10
	DefaultMaxActive        = 32 // AWS's default quota of active authorizers
	DefaultMaxAuthorizers   = 1000
	DefaultMaxSigningKeys   = 5
)

// Options configure a Service. Zero values take the defaults above.
type Options struct {
	// Timeout bounds one call of a function: connecting, sending the
	// event and reading the answer. 0 means DefaultTimeout (5 s).
	Timeout time.Duration
	// MaxInFlight is how many function calls may run at once, all
	// authorizers together; a call beyond is refused at once with ErrBusy.
	// 0 means DefaultMaxInFlight (64).
	MaxInFlight int
	// MaxResponseBytes is the largest answer read from a function; a
	// larger one is ErrInvalidResponse. 0 means DefaultMaxResponseBytes
	// (64 KiB).
	MaxResponseBytes int64
	// MaxActive is how many authorizers may be ACTIVE at once: creating or
	// activating one more is LimitExceededException (UpdateAuthorizer
	// lists that error, so AWS's quota counts active authorizers). 0 means
	// DefaultMaxActive (32).
	MaxActive int
	// MaxAuthorizers bounds all authorizers, ACTIVE or not (moat's own
	// bound, so that listing stays cheap). 0 means DefaultMaxAuthorizers
	// (1000).
	MaxAuthorizers int
	// MaxSigningKeys is how many tokenSigningPublicKeys one authorizer may
	// have (the botocore model sets no bound). 0 means
	// DefaultMaxSigningKeys (5).
	MaxSigningKeys int
	// CAFile is a PEM file of CA certificates trusted for https://
	// functions besides the system roots; "" means the system roots only.
	// Read once, by New.
	CAFile string
	// AllowURL, if set, decides which function URLs authorizers may name:
	// it returns why a URL is refused (CreateAuthorizer and
	// UpdateAuthorizer answer InvalidRequestException; an invocation of an
	// authorizer stored before the list changed refuses with
	// ErrUnsupportedFunction). nil allows every http:// and https:// URL.
	AllowURL func(u *url.URL) error
	// HTTPClient, if set, calls the functions instead of the client New
	// builds (no proxy, TLS 1.2 or later, system roots plus CAFile);
	// redirects are never followed whatever its CheckRedirect. Tests and
	// operators that need a proxy set it.
	HTTPClient *http.Client
	// Logger receives warnings about failing functions; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Timeout < 0 || o.MaxInFlight < 0 || o.MaxResponseBytes < 0 || o.MaxActive < 0 || o.MaxAuthorizers < 0 || o.MaxSigningKeys < 0 {
		return o, errors.New("authorizer: options: limits must not be negative")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.MaxActive == 0 {
		o.MaxActive = DefaultMaxActive
	}
	if o.MaxAuthorizers == 0 {
		o.MaxAuthorizers = DefaultMaxAuthorizers
	}
	if o.MaxSigningKeys == 0 {
		o.MaxSigningKeys = DefaultMaxSigningKeys
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Service keeps authorizers in a store and invokes their functions. It is
// safe for concurrent use.
type Service struct {
	st     store.Store
	arns   arn.Builder
	opts   Options
	client *http.Client
	sem    chan struct{}
	keys   keyCache
	now    func() time.Time

	// OnChange, if set, is called after a change that may alter the
	// answer for connections authenticated by an authorizer, with its
	// name: UpdateAuthorizer and DeleteAuthorizer of it,
	// SetDefaultAuthorizer making it the default, ClearDefaultAuthorizer
	// while it was the default (connections that named no authorizer
	// resolve differently now). It is called after the change is committed,
	// on the caller's goroutine; it must not block. Set it before serving.
	OnChange func(name string)
}

// New returns a service over st. arns names the region and account of
// authorizer ARNs.
func New(st store.Store, arns arn.Builder, opts Options) (*Service, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	client := opts.HTTPClient
	if client == nil {
		client, err = defaultClient(opts.CAFile)
		if err != nil {
			return nil, err
		}
	}
	cp := *client
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Service{
		st:     st,
		arns:   arns,
		opts:   opts,
		client: &cp,
		sem:    make(chan struct{}, opts.MaxInFlight),
		now:    time.Now,
	}, nil
}

// defaultClient is the client of function calls: no proxy, TLS 1.2 or
// later with the system roots plus the CAs of caFile, connections kept
// for reuse. The per-call deadline comes from the context.
func defaultClient(caFile string) (*http.Client, error) {
	var roots *x509.CertPool
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("authorizer: CA file: %w", err)
		}
		roots, err = x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("authorizer: CA file %s: no PEM certificate in it", caFile)
		}
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:    5 * time.Second,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}}, nil
}

// ARN is the ARN of the authorizer with this name.
func (s *Service) ARN(name string) string { return s.arns.IoT("authorizer", name) }

func (s *Service) changed(names ...string) {
	if s.OnChange == nil {
		return
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			s.OnChange(n)
		}
	}
}
