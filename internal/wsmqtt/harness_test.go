package wsmqtt_test

// The harness: a real broker (fake Gate), a real auth.Authenticator over a
// SQLite store, the Handler mounted at /mqtt of an httptest TLS server that
// requests client certificates, and raw MQTT clients over WebSocket.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/coder/websocket"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
	"github.com/moat-iot/moat/internal/wsmqtt"
)

// timeout bounds every wait of these tests.
const timeout = 5 * time.Second

const (
	region    = "us-east-1"
	userKey   = "AKIAWSMQTTTESTUSER01"
	userName  = "alice"
	emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// allowAll is Permissions that allow everything.
type allowAll struct{ who string }

func (allowAll) Allow(broker.Action, string) bool { return true }
func (a allowAll) Principal() string              { return a.who }

// gate is a broker.Gate that records what it is asked and admits everyone,
// unless admit says otherwise.
type gate struct {
	mu    sync.Mutex
	infos []broker.ConnInfo
	admit func(broker.ConnInfo) *broker.Refusal
}

func (g *gate) Admit(_ context.Context, info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
	g.mu.Lock()
	g.infos = append(g.infos, info)
	admit := g.admit
	g.mu.Unlock()
	if admit != nil {
		if ref := admit(info); ref != nil {
			return nil, ref
		}
	}
	return allowAll{info.ClientID}, nil
}

// calls returns what the gate was asked so far.
func (g *gate) calls() []broker.ConnInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]broker.ConnInfo(nil), g.infos...)
}

// fakeCustomAuth authenticates requests carrying the header
// x-amz-customauthorizer-name: the token "allow" is admitted unless
// revoked is set, anything else refused. calls counts the invocations.
type fakeCustomAuth struct {
	revoked atomic.Bool
	calls   atomic.Int32
}

func (f *fakeCustomAuth) AuthenticateHTTP(_ context.Context, r *http.Request) (auth.Principal, bool, error) {
	name := r.Header.Get("x-amz-customauthorizer-name")
	if name == "" {
		return auth.Principal{}, false, nil
	}
	f.calls.Add(1)
	if r.Header.Get("x-token") != "allow" || f.revoked.Load() {
		return auth.Principal{}, true, errors.New("authorizer " + name + ": isAuthenticated false")
	}
	return auth.Principal{Kind: auth.KindAuthorizer, Grant: &auth.Grant{AuthorizerName: name, PrincipalID: "device1"}}, true, nil
}

// harness is a running Handler.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	b      *broker.Broker
	auth   *auth.Authenticator
	gate   *gate
	secret string // userKey's secret
	roots  *x509.CertPool
	url    string // wss://127.0.0.1:PORT/mqtt
}

// harnessOpts adjust a harness.
type harnessOpts struct {
	limits     func(*broker.Limits)
	customAuth wsmqtt.CustomAuth
	replayCap  int
}

func start(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := &harness{t: t, auth: auth.New(st, region, "000000000000"), gate: &gate{}, secret: "wsmqtt-test-secret-0123456789abcdefghij"}
	err = st.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertAccessKey(store.AccessKey{ID: userKey, Secret: h.secret, UserName: userName, Status: "Active", CreatedAt: time.Now().UTC()})
	})
	if err != nil {
		t.Fatal(err)
	}
	lim := broker.DefaultLimits()
	if o.limits != nil {
		o.limits(&lim)
	}
	h.b, err = broker.New(broker.Options{Limits: lim, Gate: h.gate, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := wsmqtt.New(wsmqtt.Options{Broker: h.b, Auth: h.auth, CustomAuth: o.customAuth, MaxPacketSize: lim.MaxPacketSize,
		ReplayCapacity: o.replayCap, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mqtt", handler)
	h.srv = httptest.NewUnstartedServer(mux)
	h.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	h.srv.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := h.b.Shutdown(ctx); err != nil {
			t.Errorf("broker Shutdown: %v", err)
		}
		h.srv.Close()
	})
	h.roots = x509.NewCertPool()
	h.roots.AddCert(h.srv.Certificate())
	h.url = "wss://" + h.srv.Listener.Addr().String() + "/mqtt"
	return h
}

// tlsConfig trusts the server and presents certs.
func (h *harness) tlsConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: h.roots, Certificates: certs, MinVersion: tls.VersionTLS12}
}

// httpClient trusts the server and presents certs.
func (h *harness) httpClient(certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: h.tlsConfig(certs...)}}
}

// presign returns h.url presigned with creds for service at signedAt;
// expires, if not zero, is put in X-Amz-Expires before signing. With
// appendToken, the session token is left out of the signature and appended
// afterwards, as the v1 AWS IoT device SDKs do.
func (h *harness) presign(creds aws.Credentials, service string, signedAt time.Time, expires time.Duration, appendToken bool) string {
	h.t.Helper()
	u := "https" + strings.TrimPrefix(h.url, "wss")
	if expires > 0 {
		u += "?X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	}
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	token := creds.SessionToken
	if appendToken {
		creds.SessionToken = ""
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, emptyHash, service, region, signedAt)
	if err != nil {
		h.t.Fatal(err)
	}
	if appendToken && token != "" {
		signed += "&X-Amz-Security-Token=" + url.QueryEscape(token)
	}
	return "wss" + strings.TrimPrefix(signed, "https")
}

// userCreds are the long-term credentials of the test user.
func (h *harness) userCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: userKey, SecretAccessKey: h.secret}
}

// tempCreds mints temporary credentials of a Cognito identity, valid for d.
func (h *harness) tempCreds(identity string, d time.Duration) aws.Credentials {
	h.t.Helper()
	c, err := h.auth.Mint(context.Background(), auth.Session{RoleName: "app", RoleARN: "arn:aws:iam::000000000000:role/app",
		SessionName: "CognitoIdentityCredentials", Source: auth.SourceCognito, IdentityID: identity, Expiration: time.Now().Add(d)})
	if err != nil {
		h.t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// dialResult is the outcome of a WebSocket dial.
type dialResult struct {
	ws     *websocket.Conn
	status int // the HTTP status of a refused upgrade; 101 when upgraded
	body   string
	err    error
}

// dialOpts adjust a dial.
type dialOpts struct {
	certs        []tls.Certificate
	header       http.Header
	subprotocols []string // nil: mqtt
}

// dial opens a WebSocket to rawURL.
func (h *harness) dial(rawURL string, o dialOpts) dialResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sp := o.subprotocols
	if sp == nil {
		sp = []string{wsmqtt.Subprotocol}
	}
	ws, resp, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{HTTPClient: h.httpClient(o.certs...), HTTPHeader: o.header, Subprotocols: sp})
	res := dialResult{ws: ws, err: err}
	if resp != nil {
		res.status = resp.StatusCode
		if resp.Body != nil {
			b := make([]byte, 512)
			n, _ := resp.Body.Read(b)
			res.body = string(b[:n])
			_ = resp.Body.Close()
		}
	}
	if ws != nil {
		h.t.Cleanup(func() { _ = ws.CloseNow() })
	}
	return res
}

// mqtt dials rawURL and fails the test unless the upgrade succeeds.
func (h *harness) mqtt(rawURL string, o dialOpts) *client {
	h.t.Helper()
	res := h.dial(rawURL, o)
	if res.err != nil {
		h.t.Fatalf("dial: status %d %q: %v", res.status, res.body, res.err)
	}
	want := wsmqtt.Subprotocol // preferred whenever offered
	if o.subprotocols != nil && !slices.Contains(o.subprotocols, wsmqtt.Subprotocol) {
		want = wsmqtt.LegacySubprotocol
	}
	if res.ws.Subprotocol() != want {
		h.t.Fatalf("subprotocol %q, want %q", res.ws.Subprotocol(), want)
	}
	nc := websocket.NetConn(context.Background(), res.ws, websocket.MessageBinary)
	return &client{t: h.t, ws: res.ws, nc: nc, r: packet.NewReader(nc, packet.MaxPacketSize)}
}

// refused dials rawURL and fails the test unless the upgrade is refused
// with status; it returns the response body.
func (h *harness) refused(rawURL string, o dialOpts, status int) string {
	h.t.Helper()
	res := h.dial(rawURL, o)
	if res.err == nil || res.status != status {
		h.t.Fatalf("dial: status %d %q (%v), want %d", res.status, res.body, res.err, status)
	}
	return res.body
}

// noConnections checks that the broker holds no connection and the gate
// was never asked.
func (h *harness) noConnections() {
	h.t.Helper()
	if n := h.b.Stats().Connections; n != 0 {
		h.t.Errorf("%d broker connections, want 0", n)
	}
	if calls := h.gate.calls(); len(calls) != 0 {
		h.t.Errorf("gate asked %d times, want 0", len(calls))
	}
}

// client is a raw MQTT client over WebSocket.
type client struct {
	t  testing.TB
	ws *websocket.Conn
	nc net.Conn
	r  *packet.Reader
	v  packet.Version
}

func (c *client) send(p packet.Packet) {
	c.t.Helper()
	v := c.v
	if cp, ok := p.(*packet.Connect); ok {
		v = cp.ProtocolLevel
	}
	b, err := packet.Encode(p, v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one packet within d.
func (c *client) next(d time.Duration) (packet.Packet, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	v := c.v
	if v == 0 {
		v = packet.V311
	}
	return c.r.ReadPacket(v)
}

// connect sends CONNECT and returns the CONNACK.
func (c *client) connect(id string, v packet.Version, mod ...func(*packet.Connect)) *packet.Connack {
	c.t.Helper()
	cp := &packet.Connect{ProtocolLevel: v, ClientID: id, CleanStart: true, KeepAlive: 60}
	for _, m := range mod {
		m(cp)
	}
	c.v = v
	c.send(cp)
	return expect[*packet.Connack](c)
}

func expect[T packet.Packet](c *client) T {
	c.t.Helper()
	p, err := c.next(timeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	got, ok := p.(T)
	if !ok {
		var want T
		c.t.Fatalf("read %s %+v, want %T", p.Type(), p, want)
	}
	return got
}

// expectClosed reads until the connection ends; it fails if a packet
// arrives first, and returns the read error.
func (c *client) expectClosed() error {
	c.t.Helper()
	p, err := c.next(timeout)
	if err == nil {
		c.t.Fatalf("read %s %+v, want the connection closed", p.Type(), p)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection not closed: %v", err)
	}
	return err
}

// newCert makes a self-signed client certificate.
func newCert(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// sigOf returns the X-Amz-Signature of a presigned URL.
func sigOf(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	s := u.Query().Get("X-Amz-Signature")
	if _, err := hex.DecodeString(s); err != nil || len(s) != 2*sha256.Size {
		t.Fatalf("no signature in %s", rawURL)
	}
	return s
}

// testLogger discards logs unless MOAT_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("MOAT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
