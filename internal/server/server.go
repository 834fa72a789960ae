// Package server owns moat's listeners and their lifetimes: it opens the
// store, bootstraps the PKI and the admin credentials, builds the services
// and surfaces, starts the listeners, reports readiness on /health, and
// stops everything gracefully.
//
// Start order: data dir → PKI → store → admin credentials → services →
// listeners (each bound before any serves) → ready. Stop order is the
// reverse: stop accepting, finish in-flight requests (bounded by the
// shutdown timeout), close the store.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/api/cognitoapi"
	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/api/data"
	"github.com/moat-iot/moat/internal/api/iamapi"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/iam"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/rolealias"
	"github.com/moat-iot/moat/internal/rules"
	"github.com/moat-iot/moat/internal/shadow"
	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// File names inside the data dir.
const (
	DatabaseFile         = "moat.db"
	AdminCredentialsFile = "admin.credentials"
)

// Server is one moat node.
type Server struct {
	cfg  config.Config
	log  *slog.Logger
	out  io.Writer // where the first-start banner goes
	reg  *prometheus.Registry
	pki  *pki.Authority
	st   store.Store
	auth *auth.Authenticator
	// decisions is the policy decision log; nil with --decision-log off.
	decisions *decisionlog.Log
	// crls are the --crl files and their watcher; nil without --crl.
	crls *certs.CRLs

	httpsLn   net.Listener
	metricsLn net.Listener
	mqttLn    net.Listener
	broker    *broker.Broker
	shadows   *shadow.Service
	rules     *rules.Service
	https     *http.Server
	metrics   *http.Server

	// customAuth authenticates custom-authorizer credentials on the
	// WebSocket upgrade.
	customAuth *authorizer.Service
	// stopping is closed when the server stops (background loops end).
	stopping chan struct{}

	ready    atomic.Bool
	stopOnce sync.Once
	stopErr  error
	// Addrs are the bound listener addresses, known after Start.
	HTTPSAddr   string
	MetricsAddr string
	MQTTAddr    string
}

// New prepares a server from a validated config. It opens nothing yet.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{cfg: cfg, log: log, out: os.Stdout}, nil
}

// SetOutput sets where the start banner is printed (default stdout).
func (s *Server) SetOutput(w io.Writer) { s.out = w }

// Run starts the server, blocks until ctx is cancelled, then stops it
// gracefully. It returns nil after a clean stop.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		s.closeAll()
		return err
	}
	<-ctx.Done()
	return s.Stop()
}

// Start opens everything and starts serving; it returns once every listener
// is bound and /health answers 200.
func (s *Server) Start(ctx context.Context) error {
	dir := s.cfg.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	serverKey, err := pki.ParseKeyType(s.cfg.ServerKeyType)
	if err != nil {
		return fmt.Errorf("--server-key-type: %w", err)
	}
	deviceKey, err := pki.ParseKeyType(s.cfg.DeviceKeyType)
	if err != nil {
		return fmt.Errorf("--device-key-type: %w", err)
	}
	// An operator's certificate (--server-cert) is read at every start and
	// replaces the one moat issues; pki reports the host names it misses.
	operator, _, err := s.cfg.LoadServerCert(time.Now())
	if err != nil {
		return err
	}
	authority, err := pki.LoadOrCreate(pki.Options{Dir: dir, Hostnames: s.cfg.Hostnames, ServerKeyType: serverKey, DeviceKeyType: deviceKey,
		Operator: operator})
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if operator != nil {
		s.log.Info("serving the operator's server certificate", "file", s.cfg.TLS.Cert,
			"subject", operator.Leaf().Subject.String(), "not_after", operator.Leaf().NotAfter.UTC().Format(time.RFC3339))
	}
	s.pki = authority
	rep := authority.Report()
	for _, f := range rep.Created {
		s.log.Info("created", "file", f)
	}
	if rep.ServerIssued != "" {
		s.log.Info("server certificate issued", "reason", rep.ServerIssued)
	}
	for _, w := range rep.Warnings {
		s.log.Warn("pki", "warning", w)
	}

	s.reg = prometheus.NewRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	storeLat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "moat_store_transaction_duration_seconds", Help: "Store transaction latency by kind (view, update, commit).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"kind"})
	s.reg.MustRegister(storeLat)

	st, err := sqlite.Open(filepath.Join(dir, DatabaseFile), sqlite.Options{
		Observe: func(op string, d time.Duration) { storeLat.WithLabelValues(op).Observe(d.Seconds()) },
	})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.st = st

	credsPath := filepath.Join(dir, AdminCredentialsFile)
	keyID, created, err := auth.EnsureAdmin(ctx, st, credsPath)
	if err != nil {
		return fmt.Errorf("admin credentials: %w", err)
	}
	s.auth = auth.New(st, s.cfg.Region, s.cfg.AccountID)

	if err := s.bind(); err != nil {
		return err
	}
	arns := arn.Builder{Region: s.cfg.Region, Account: s.cfg.AccountID}
	reg := registry.New(st, arns)
	reg.ThingTypeDeleteDelay = s.cfg.ThingTypeDeleteDelay
	pols := policies.New(st, arns)
	ctl := &control.API{
		Registry:  reg,
		Certs:     certs.New(st, authority, arns),
		Policies:  pols,
		ARNs:      arns,
		Endpoints: control.EndpointsFor(s.cfg.Hostnames[0], s.MQTTAddr, s.HTTPSAddr),
	}
	id, err := s.newIdentity(arns, keyID)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	ctl.Authorizers, ctl.RoleAliases = id.authorizers, id.roleAliases
	gate := &access.Gate{Auth: s.auth, Registry: reg, Policies: pols, ARNs: arns, Log: s.log,
		IAM: id.iam, NoSuchEntity: iam.ErrNoSuchEntity, CustomAuth: id.authorizers}
	if path := s.cfg.DecisionLogPath(); path != "" {
		dl, err := decisionlog.Open(path, decisionlog.Options{
			MaxSize: s.cfg.DecisionLog.MaxSize, MaxFiles: s.cfg.DecisionLog.MaxFiles, Buffer: s.cfg.DecisionLog.Buffer,
			Allows: s.cfg.DecisionLog.Allows, Registerer: s.reg, Logger: s.log,
		})
		if err != nil {
			return fmt.Errorf("decision log: %w", err)
		}
		s.decisions, gate.Decisions = dl, dl
	}
	s.broker, err = broker.New(broker.Options{
		Limits:     s.cfg.BrokerLimits(),
		Gate:       gate,
		Logger:     s.log,
		Retained:   broker.StoreRetained{Store: st},
		Sessions:   st,
		Registerer: s.reg,
	})
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	s.wireRechecks(reg, ctl.Certs, pols)
	s.stopping = make(chan struct{})
	s.wireIdentityRechecks(id, s.stopping)
	s.wireAutoRegistration(ctl.Certs, reg)
	if err := s.wireCRLs(ctx, ctl.Certs); err != nil {
		return err
	}
	sh := s.cfg.Shadow
	s.shadows, err = shadow.New(shadow.Options{
		Store: st, Broker: s.broker, Logger: s.log, Registerer: s.reg,
		Limits: shadow.Limits{
			Document:     document.Limits{MaxStateBytes: sh.MaxStateBytes, MaxDepth: sh.MaxDepth, MaxClientTokenBytes: sh.MaxClientToken},
			MaxInFlight:  sh.MaxInFlight,
			TombstoneTTL: sh.TombstoneTTL,
		},
	})
	if err != nil {
		return fmt.Errorf("shadows: %w", err)
	}
	if err := s.shadows.Start(); err != nil {
		return fmt.Errorf("shadows: %w", err)
	}
	reg.OnThingDeleted = func(ctx context.Context, thing string) {
		if err := s.shadows.DeleteThing(ctx, thing); err != nil {
			s.log.Error("shadows of a deleted thing not deleted", "thing", thing, "err", err)
		}
	}
	var dests []*url.URL
	for _, d := range s.cfg.Rules.HTTPDestinations {
		u, err := config.ParseDestination(d)
		if err != nil {
			return fmt.Errorf("rules: %w", err)
		}
		dests = append(dests, u)
	}
	s.rules, err = rules.New(rules.Options{
		Store: st, Broker: s.broker, ARNs: arns, Shadows: shadowReader{s.shadows}, Logger: s.log, Registerer: s.reg,
		AllowURL: func(u *url.URL) error {
			if config.AllowDestination(dests, u) {
				return nil
			}
			return fmt.Errorf("%s is not an allowed destination (--rules-http-destination)", u.Redacted())
		},
		Limits: rules.Limits{QueueLen: s.cfg.Rules.QueueLen, WorkersPerRule: s.cfg.Rules.Workers, MaxAttempts: s.cfg.Rules.MaxAttempts,
			ActionTimeout: s.cfg.Rules.ActionTimeout, MaxHops: s.cfg.Rules.MaxHops},
	})
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if err := s.rules.Start(ctx); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	ctl.Rules = s.rules
	dat := &data.API{Auth: s.auth, Gate: gate, Broker: s.broker, Limits: s.cfg.BrokerLimits(), Shadows: s.shadows, ARNs: arns,
		CustomAuth: id.authorizers}
	authz := gate.APIAuthorizer() // after the Gate's fields are set
	router := api.NewRouter(api.Options{MaxBody: s.cfg.Limits.MaxRequestBody, Logger: s.log, Registerer: s.reg},
		api.Group{
			Prefix: "iot:",
			Authenticate: func(ctx context.Context, r *http.Request, body []byte) (auth.Principal, error) {
				return s.auth.SigV4(ctx, r, body, "iot")
			},
			Authorize:  authz.AuthorizeRequest,
			Operations: ctl.Operations(),
		},
		// The iot-data plane: a device certificate (mutual TLS) or SigV4
		// for iotdata/iotdevicegateway. Its own group, so that neither way
		// in reaches the control plane's operations.
		api.Group{
			Prefix:       "iot:",
			Authenticate: dat.Authenticate,
			Authorize:    dat.Authorize,
			Operations:   dat.Operations(),
			MapError:     awsapi.DataPlane,
		})
	router.Handle(rolealias.CredentialsPath, &rolealias.Endpoint{Aliases: id.roleAliases, Auth: s.auth,
		Authorize: rolealias.GateAuthorizer(gate), Logger: s.log})
	router.Handle("GET /health", http.HandlerFunc(s.health))
	router.Handle("GET /metrics", s.adminOnlyHTTP(authz, promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})))

	cog := &cognitoapi.API{Service: id.cognito, Auth: s.auth, Authorize: authz.Authorize, MaxBody: s.cfg.Limits.MaxRequestBody, Logger: s.log}
	query := iamapi.New(iamapi.Config{IAM: id.iam, Auth: s.auth, Authorize: authz.Authorize, MaxBody: s.cfg.Limits.MaxRequestBody,
		Logger: s.log, Registerer: s.reg})
	s.customAuth = id.authorizers
	if err := s.serveAll(access.SourceIPHandler(rootHandler(cog, query, data.TopicPaths(router)))); err != nil {
		return err
	}
	s.ready.Store(true)
	s.banner(credsPath, keyID, created)
	return nil
}

// adminOnlyHTTP guards an operator endpoint (GET /metrics): a SigV4
// request for the signing name iot whose caller may perform
// moat:GetMetrics (the administrator, or an IAM user or role allowed it).
func (s *Server) adminOnlyHTTP(authz *access.APIAuthorizer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.SigV4(r.Context(), r, nil, "iot")
		if err == nil {
			err = authz.Authorize(access.WithSourceIP(r.Context(), r.RemoteAddr), p, "moat:GetMetrics", "*")
		}
		if err != nil {
			awsapi.WriteError(w, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"starting"}`+"\n")
		return
	}
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

// bind opens every listener, so that their addresses are known before the
// surfaces are built and nothing is served until all are bound.
func (s *Server) bind() error {
	ln, err := net.Listen("tcp", s.cfg.HTTPSAddr)
	if err != nil {
		return fmt.Errorf("https listener %s: %w", s.cfg.HTTPSAddr, err)
	}
	s.httpsLn = ln
	s.HTTPSAddr = ln.Addr().String()
	mqttLn, err := net.Listen("tcp", s.cfg.MQTTAddr)
	if err != nil {
		return fmt.Errorf("mqtt listener %s: %w", s.cfg.MQTTAddr, err)
	}
	s.mqttLn = mqttLn
	s.MQTTAddr = mqttLn.Addr().String()
	if s.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener %s: %w", s.cfg.MetricsAddr, err)
		}
		s.metricsLn = mln
		s.MetricsAddr = mln.Addr().String()
	}
	return nil
}

// serveAll starts serving on the bound listeners.
func (s *Server) serveAll(h http.Handler) error {
	// Client certificates are requested, not required: the data plane,
	// MQTT over WebSocket and MQTT by ALPN x-amzn-mqtt-ca authenticate a
	// device by its certificate, everything else by SigV4 (or a custom
	// authorizer). A certificate is not verified here
	// (pki.ServerTLSConfig); the data plane checks it per request and the
	// broker's Gate at CONNECT, and no other surface looks at it.
	tlsCfg, err := s.pki.ServerTLSConfig(tls.RequestClientCert, nil)
	if err != nil {
		return err
	}
	// MQTT over WebSocket at /mqtt (alpn.go), authenticated by a SigV4
	// presigned URL, custom-authorizer headers or a device certificate.
	ws, err := s.webSocketHandler(s.customAuth)
	if err != nil {
		return err
	}
	s.https = &http.Server{
		Handler:           withWebSocket(ws, h),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: s.cfg.Limits.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.Limits.ReadTimeout,
		IdleTimeout:       s.cfg.Limits.IdleTimeout,
		MaxHeaderBytes:    s.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// ALPN: HTTP/2 and HTTP/1.1, and MQTT by x-amzn-mqtt-ca and mqtt.
	// The HTTPS listener handshakes and gives MQTT connections to the
	// broker itself, the others to s.https (alpn.go).
	configureHTTPS(s.https, tlsCfg)
	httpsLn := newALPNListener(s.httpsLn, tlsCfg, handshakeTimeout(s.https), func(tc *tls.Conn, transport string) {
		serveMQTT(s.broker, tc, transport)
	})
	go s.serve("https", func() error { return s.https.Serve(httpsLn) })
	s.log.Info("listening", "listener", "https", "addr", s.HTTPSAddr, "serves",
		"iot control plane, iot-data plane (device certificates or SigV4), /health, /metrics, MQTT over WebSocket at /mqtt, MQTT by ALPN x-amzn-mqtt-ca and mqtt")
	mqttTLS, err := s.pki.ServerTLSConfig(tls.RequireAnyClientCert, nil)
	if err != nil {
		return err
	}
	go s.serve("mqtt", func() error { return s.broker.Serve(s.mqttLn, mqttTLS) })
	s.log.Info("listening", "listener", "mqtt", "addr", s.MQTTAddr, "serves", "MQTT 3.1.1 and 5 over TLS, client certificates required")
	if s.metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.Limits.ReadHeaderTimeout}
		go s.serve("metrics", func() error { return s.metrics.Serve(s.metricsLn) })
		s.log.Info("listening", "listener", "metrics", "addr", s.MetricsAddr, "serves", "/metrics (plain HTTP, no authentication)")
	}
	return nil
}

func (s *Server) serve(name string, f func() error) {
	if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("listener failed", "listener", name, "err", err)
	}
}

// Stop stops accepting, lets in-flight requests finish within the shutdown
// timeout, and closes the store. Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	s.ready.Store(false)
	s.log.Info("stopping")
	if s.stopping != nil {
		close(s.stopping)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Limits.ShutdownTimeout)
	defer cancel()
	var errs []error
	if s.crls != nil {
		s.crls.Close()
	}
	if s.broker != nil {
		if err := s.broker.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("mqtt: %w", err))
		}
	}
	for _, hs := range []*http.Server{s.https, s.metrics} {
		if hs != nil {
			if err := hs.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if s.rules != nil {
		// Queued rule actions finish (within the action timeout) while
		// the shadows they may read are still there.
		s.rules.Close()
	}
	if s.shadows != nil {
		// After HTTPS: its calls have finished; what the shards hold is
		// applied and stored before the store closes.
		s.shadows.Close()
	}
	if s.decisions != nil {
		if err := s.decisions.Close(); err != nil {
			errs = append(errs, fmt.Errorf("decision log: %w", err))
		}
	}
	if s.st != nil {
		if err := s.st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store close: %w", err))
		}
	}
	s.log.Info("stopped")
	return errors.Join(errs...)
}

// closeAll releases what a failed Start opened.
func (s *Server) closeAll() {
	for _, ln := range []net.Listener{s.httpsLn, s.metricsLn, s.mqttLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if s.crls != nil {
		s.crls.Close()
	}
	if s.decisions != nil {
		_ = s.decisions.Close()
	}
	if s.st != nil {
		_ = s.st.Close()
	}
}

func (s *Server) banner(credsPath, keyID string, created bool) {
	_, port, _ := net.SplitHostPort(s.HTTPSAddr)
	endpoint := "https://" + net.JoinHostPort(s.cfg.Hostnames[0], port)
	first := ""
	if created {
		first = " (created now)"
	}
	fmt.Fprintf(s.out, `moat is ready.
  data dir:           %s
  trust anchor:       %s
  admin credentials:  %s%s (access key %s)
  API endpoint:       %s

Try it with the AWS CLI:
  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_CA_BUNDLE=%s AWS_REGION=%s AWS_DEFAULT_REGION=%[9]s
  aws iot create-thing --thing-name lamp-1 --endpoint-url %s
`, s.cfg.DataDir, s.pki.RootPath(), credsPath, first, keyID, endpoint, credsPath, s.pki.RootPath(), s.cfg.Region, endpoint)
}

// shadowReader serves the rules' get_thing_shadow from the shadow service.
type shadowReader struct{ s *shadow.Service }

func (r shadowReader) GetThingShadow(ctx context.Context, thing, name string) ([]byte, error) {
	return r.s.Get(ctx, shadow.Key{Thing: thing, Name: name})
}
