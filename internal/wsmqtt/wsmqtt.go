// Package wsmqtt serves MQTT over WebSocket (wss://HOST/mqtt), as AWS IoT
// Core does: an HTTP/1.1 upgrade to a WebSocket with subprotocol "mqtt"
// (or the legacy "mqttv3.1", see LegacySubprotocol), then MQTT 3.1.1 or 5
// in binary messages, handed to the same broker, limits and policy checks
// as MQTT over TLS (broker.ServeConn with broker.TransportWebSocket).
//
// # Authentication, at the upgrade
//
// The caller is authenticated before any MQTT, from the upgrade request,
// in this order:
//
//  1. A SigV4 presigned URL (X-Amz-* query parameters, signing name
//     iotdevicegateway; reference §3.2): verified by internal/auth, which
//     accepts both placements of X-Amz-Security-Token that AWS's SDKs use
//     (signed in the canonical query, or appended after signing) and
//     honours X-Amz-Expires. A URL opens one connection only (see
//     replay.go). A forged, expired, replayed or otherwise invalid URL is
//     refused with HTTP 403 and nothing is upgraded (503 while the replay
//     cache is full, or the credential store is unavailable). The
//     Authorization header form of SigV4 is refused: AWS takes a
//     presigned URL only.
//  2. Custom authorizer headers or query parameters
//     (x-amz-customauthorizer-name, the token, x-amz-customauthorizer-
//     signature), through Options.CustomAuth: a refusal is HTTP 401.
//  3. A device certificate (mutual TLS on the HTTPS port): the broker's
//     Gate authenticates it at CONNECT, as on the MQTT port.
//
// Anything else is refused with HTTP 403. The principal of 1 goes to the
// Gate as broker.ConnInfo.Authenticated (an auth.Principal), that of 2 as
// an access.Preauthenticated, which can invoke the authorizer again with
// the same request when its grant is due for a refresh; the Gate decides
// what the principal may do (iot:Connect and the rest) exactly as for any
// other connection.
//
// Browsers send an Origin header and may present a client certificate on
// their own: a connection authenticated only by a certificate must come
// from the same origin as the request's host (or send no Origin), so that
// a page on another site cannot ride on a certificate installed in a
// browser. Presigned URLs and authorizer tokens are explicit, so any
// origin may use them.
//
// # Limits
//
// One WebSocket message is at most the broker's maximum packet size plus
// MessageSlack bytes (a larger one closes the connection with status
// 1009); the broker's own limits (packet size, keep-alive, rates, queues)
// apply to the MQTT inside. WebSocket pings are answered by the library;
// liveness is MQTT's keep-alive. X-Forwarded-For and similar headers are
// ignored: the remote address is the TCP peer's.
package wsmqtt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/auth/sigv4"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/broker"
)

// SigningName is the SigV4 signing name of presigned MQTT-over-WebSocket
// URLs (what the AWS IoT device SDKs sign for).
const SigningName = "iotdevicegateway"

// MessageSlack is how much larger than the broker's maximum packet size
// one WebSocket message may be: room for a packet plus the small ones
// (acknowledgements, PINGREQ) a client may send in the same message.
const MessageSlack = 4 << 10

// Broker serves MQTT on an established connection (*broker.Broker).
type Broker interface {
	ServeConn(nc net.Conn, meta broker.ConnMeta) <-chan struct{}
}

// SigV4 verifies SigV4 requests (*auth.Authenticator).
type SigV4 interface {
	SigV4Result(ctx context.Context, r *http.Request, body []byte, services ...string) (auth.Principal, sigv4.Result, error)
}

// CustomAuth authenticates an upgrade request by a custom authorizer. ok
// reports whether the request carried custom-authorizer credentials
// (headers or query parameters); err is a refusal (or a failure to decide)
// when it did.
type CustomAuth interface {
	AuthenticateHTTP(ctx context.Context, r *http.Request) (p auth.Principal, ok bool, err error)
}

// Options configure a Handler.
type Options struct {
	// Broker receives the connections. Required.
	Broker Broker
	// Auth verifies presigned URLs. Required.
	Auth SigV4
	// CustomAuth authenticates custom-authorizer credentials; nil: custom
	// authorizers are not offered on WebSocket.
	CustomAuth CustomAuth
	// MaxPacketSize is the broker's maximum packet size, in bytes
	// (broker.Limits.MaxPacketSize); a message may be MessageSlack bytes
	// larger. Must be > 0.
	MaxPacketSize int
	// ReplayCapacity is the number of spent presigned-URL signatures
	// remembered (replay.go); 0: DefaultReplayCapacity.
	ReplayCapacity int
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// Registerer receives moat_mqtt_websocket_upgrades_total; nil: none.
	Registerer prometheus.Registerer
	// Now is the clock of the replay cache; nil: time.Now.
	Now func() time.Time
}

// Handler serves GET /mqtt. It is safe for concurrent use.
type Handler struct {
	opts     Options
	log      *slog.Logger
	replay   *replayCache
	upgrades *prometheus.CounterVec // by result
}

// New returns a Handler.
func New(opts Options) (*Handler, error) {
	switch {
	case opts.Broker == nil:
		return nil, errors.New("wsmqtt: a Broker is required")
	case opts.Auth == nil:
		return nil, errors.New("wsmqtt: Auth is required")
	case opts.MaxPacketSize <= 0:
		return nil, errors.New("wsmqtt: MaxPacketSize must be > 0 bytes")
	case opts.ReplayCapacity < 0:
		return nil, errors.New("wsmqtt: ReplayCapacity must be >= 0")
	}
	if opts.ReplayCapacity == 0 {
		opts.ReplayCapacity = DefaultReplayCapacity
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, log: opts.Logger, replay: newReplayCache(opts.ReplayCapacity)}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.upgrades = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_websocket_upgrades_total",
		Help: "MQTT-over-WebSocket upgrade requests by result (accepted, or why they were refused)."}, []string{"result"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(h.upgrades); err != nil {
			return nil, fmt.Errorf("wsmqtt: metrics: %w", err)
		}
	}
	return h, nil
}

// ServeHTTP authenticates an upgrade request, upgrades it and hands the
// connection to the broker. It returns once the CONNECT is decided; the
// connection goes on in the broker.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, ref := inspect(r)
	if ref != nil {
		h.refuse(w, r, ref)
		return
	}
	// One custom-authorizer connection id for the connection's life: the
	// function sees the same connectionMetadata.id when it is called
	// again for a refresh.
	r = r.WithContext(authorizer.WithConnectionID(r.Context(), uuid.NewString()))
	principal, custom, ref := h.authenticate(r, u)
	if ref != nil {
		h.refuse(w, r, ref)
		return
	}
	rec := &hijackRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(rec, r, &websocket.AcceptOptions{
		Subprotocols: subprotocols,
		// Explicit credentials may come from any origin; a certificate
		// only from the request's own (see the package doc).
		InsecureSkipVerify: principal != nil,
	})
	if err != nil {
		// Accept has written the response (403 for a foreign origin).
		h.upgrades.WithLabelValues(resultUpgradeFailed).Inc()
		h.log.Info("mqtt websocket upgrade refused", "remote", r.RemoteAddr, "reason", err.Error())
		return
	}
	if rec.conn == nil {
		// Not expected: Accept hijacks the connection through rec.
		h.log.Error("mqtt websocket: the upgraded connection was not hijacked through the handler", "remote", r.RemoteAddr)
		_ = ws.CloseNow()
		return
	}
	h.upgrades.WithLabelValues(resultAccepted).Inc()
	meta := broker.ConnMeta{Transport: broker.TransportWebSocket}
	if r.TLS != nil {
		meta.PeerCertificates, meta.ServerName = r.TLS.PeerCertificates, r.TLS.ServerName
	}
	switch {
	case custom:
		meta.Authenticated = h.preauthenticated(r, *principal)
	case principal != nil:
		meta.Authenticated = *principal
	}
	h.opts.Broker.ServeConn(newConn(ws, rec.conn, int64(h.opts.MaxPacketSize)+MessageSlack), meta)
}

// authenticate finds the caller of an upgrade request (see the package
// doc); custom reports a custom authorizer's principal. A nil principal
// without a refusal means a client certificate, for the Gate to
// authenticate.
func (h *Handler) authenticate(r *http.Request, u upgrade) (p *auth.Principal, custom bool, ref *refusal) {
	ctx := r.Context()
	if u.cred == credPresigned {
		p, ref := h.presigned(ctx, r, u)
		return p, false, ref
	}
	if ca := h.opts.CustomAuth; ca != nil {
		p, ok, err := ca.AuthenticateHTTP(ctx, r)
		if ok && err != nil {
			h.log.Info("mqtt websocket custom authorizer refused", "remote", r.RemoteAddr, "err", err)
			return nil, false, &refusal{status: http.StatusUnauthorized, result: resultCustomAuth,
				reason: "the custom authorizer refused the connection"}
		}
		if ok {
			return &p, true, nil
		}
	}
	if u.cred == credSigV4Header {
		return nil, false, &refusal{status: http.StatusForbidden, result: resultSignature,
			reason: "MQTT over WebSocket takes SigV4 in a presigned URL, not in an Authorization header"}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return nil, false, nil
	}
	return nil, false, &refusal{status: http.StatusForbidden, result: resultNoCredentials,
		reason: "no credentials: a SigV4 presigned URL, custom authorizer credentials or a client certificate is required"}
}

// preauthenticated is a custom authorizer's principal for the Gate, with
// the means to authenticate the same upgrade request again when the
// authorizer's grant is due for a refresh (refreshAfterInSeconds). The
// request is kept without its body (an upgrade has none) for the life of
// the connection.
func (h *Handler) preauthenticated(r *http.Request, p auth.Principal) access.Preauthenticated {
	saved := r.Clone(context.Background())
	saved.Body = http.NoBody
	ca := h.opts.CustomAuth
	id := authorizer.ConnectionID(r.Context())
	return access.Preauthenticated{Principal: p, Reauthenticate: func(ctx context.Context) (auth.Principal, error) {
		ctx = authorizer.WithConnectionID(ctx, id)
		p, ok, err := ca.AuthenticateHTTP(ctx, saved.WithContext(ctx))
		if err == nil && !ok {
			err = errors.New("wsmqtt: the upgrade request no longer carries custom authorizer credentials")
		}
		return p, err
	}}
}

// presigned verifies a presigned URL and spends its signature.
func (h *Handler) presigned(ctx context.Context, r *http.Request, u upgrade) (*auth.Principal, *refusal) {
	p, res, err := h.opts.Auth.SigV4Result(ctx, r, nil, SigningName)
	if err != nil {
		ref := &refusal{status: http.StatusForbidden, result: resultSignature, reason: "the presigned URL is not valid"}
		var ae *awsapi.Error
		if errors.As(err, &ae) {
			ref.reason += ": " + string(ae.Code) + ": " + ae.Message
			if ae.Status >= 500 {
				h.log.Error("mqtt websocket authentication failed", "remote", r.RemoteAddr, "err", err)
				ref.status, ref.reason = http.StatusServiceUnavailable, "authentication is unavailable"
			}
		}
		return nil, ref
	}
	if !res.Presigned || u.signature == "" {
		return nil, &refusal{status: http.StatusForbidden, result: resultSignature, reason: "a presigned URL is required"}
	}
	expires := res.ExpiresAt
	if expires.IsZero() {
		// Without X-Amz-Expires a URL is valid while X-Amz-Date is within
		// the allowed skew.
		expires = res.SignedAt.Add(sigv4.DefaultMaxSkew)
	}
	switch err := h.replay.use(u.signature, expires, h.opts.Now()); {
	case errors.Is(err, errReplayed):
		return nil, &refusal{status: http.StatusForbidden, result: resultReplayed, reason: err.Error()}
	case err != nil:
		h.log.Warn("mqtt websocket replay cache full", "capacity", h.opts.ReplayCapacity)
		return nil, &refusal{status: http.StatusServiceUnavailable, result: resultReplayFull, reason: err.Error(),
			header: http.Header{"Retry-After": {"60"}}}
	}
	return &p, nil
}

// refuse answers a refused upgrade with its status and reason.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	h.upgrades.WithLabelValues(ref.result).Inc()
	h.log.Info("mqtt websocket upgrade refused", "remote", r.RemoteAddr, "status", ref.status, "reason", ref.reason)
	for k, vs := range ref.header {
		w.Header()[k] = vs
	}
	http.Error(w, ref.reason, ref.status)
}

// hijackRecorder keeps the connection the WebSocket library hijacks, whose
// deadlines and close the stream adapter needs (netconn.go).
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.conn = c
	}
	return c, brw, err
}

// Unwrap gives http.ResponseController the original writer.
func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
