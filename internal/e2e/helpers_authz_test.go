package e2e

// Shared helpers for custom authorizers: the authorizer's function,
// served by httptest, whose answer depends on the token it is given and
// which records every request event; a token-signing RSA key; creating
// and updating authorizers; and the ways a client presents
// custom-authorizer credentials (headers or query parameters of the
// WebSocket upgrade or an HTTPS publish, and the CONNECT username and
// password of MQTT 3.1.1 by ALPN "mqtt" on the HTTPS port).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

// tokenKey is the tokenKeyName of authorizers made by createAuthorizer
// with no other: the token is the "token" header or query parameter.
const tokenKey = "token"

// fnEvent is the request event moat POSTs to the function (reference
// §7.3).
type fnEvent struct {
	Token             string   `json:"token"`
	SignatureVerified bool     `json:"signatureVerified"`
	Protocols         []string `json:"protocols"`
	ProtocolData      struct {
		TLS *struct {
			ServerName string `json:"serverName"`
		} `json:"tls"`
		HTTP *struct {
			Headers     map[string]string `json:"headers"`
			QueryString string            `json:"queryString"`
		} `json:"http"`
		MQTT *struct {
			Username string `json:"username"`
			Password string `json:"password"`
			ClientID string `json:"clientId"`
		} `json:"mqtt"`
	} `json:"protocolData"`
	ConnectionMetadata struct {
		ID string `json:"id"`
	} `json:"connectionMetadata"`
}

// fnAnswer is what the function answers for a token.
type fnAnswer struct {
	// deny answers isAuthenticated false.
	deny bool
	// slow answers nothing until the caller gives up.
	slow bool
	// raw, if set, is the answer's body as it is.
	raw string
	// policy, if set, is the one policy document returned; otherwise the
	// policy allows connecting as any client id (unless noConnect) and
	// publishing, receiving and subscribing under each of prefixes
	// (PREFIX/*).
	policy    string
	prefixes  []string
	noConnect bool
}

// authorizerFn is a custom authorizer's function: an HTTP endpoint that
// answers AWS's response document (reference §7.4) as its answers say,
// isAuthenticated false for an unknown token.
type authorizerFn struct {
	srv *httptest.Server

	mu       sync.Mutex
	moat     *moattest.Server    // for the policies' ARNs; set by use
	answers  map[string]fnAnswer // by token
	prefixes []fnPrefixAnswer    // for tokens not in answers, first match
	events   []fnEvent           // every event received, in order
}

// fnPrefixAnswer is the answer for the tokens starting with prefix.
type fnPrefixAnswer struct {
	prefix string
	answer fnAnswer
}

// newAuthorizerFn starts a function; it stops when the test ends.
func newAuthorizerFn(t testing.TB) *authorizerFn {
	f := &authorizerFn{answers: map[string]fnAnswer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// startWithFn starts a function and a moat that may call it
// (--authorizer-url), with the authorizer timeout callTimeout (0 keeps the
// default).
func startWithFn(t testing.TB, callTimeout time.Duration) (*moattest.Server, *authorizerFn) {
	t.Helper()
	f := newAuthorizerFn(t)
	s := moattest.Start(t, func(c *config.Config) {
		c.CustomAuth.URLs = []string{f.srv.URL + "/"}
		if callTimeout != 0 {
			c.CustomAuth.Timeout = callTimeout
		}
	})
	f.use(s)
	return s, f
}

// use names the moat server whose ARNs the policies use.
func (f *authorizerFn) use(s *moattest.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moat = s
}

// set makes the function answer a for token.
func (f *authorizerFn) set(token string, a fnAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = a
}

// setPrefix makes the function answer a for the tokens starting with
// prefix that have no answer of their own.
func (f *authorizerFn) setPrefix(prefix string, a fnAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefixes = append(f.prefixes, fnPrefixAnswer{prefix: prefix, answer: a})
}

// answer is the answer for token; the caller holds f.mu.
func (f *authorizerFn) answer(token string) (fnAnswer, bool) {
	if a, ok := f.answers[token]; ok {
		return a, true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(token, p.prefix) {
			return p.answer, true
		}
	}
	return fnAnswer{}, false
}

// calls is how many events the function received, all tokens together.
func (f *authorizerFn) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

// allEvents are the events received so far, in order.
func (f *authorizerFn) allEvents() []fnEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fnEvent(nil), f.events...)
}

// eventsFor are the events received for token, in order.
func (f *authorizerFn) eventsFor(token string) []fnEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fnEvent
	for _, e := range f.events {
		if e.Token == token {
			out = append(out, e)
		}
	}
	return out
}

// waitEvents waits until the function has received n events for token and
// returns them.
func (f *authorizerFn) waitEvents(t testing.TB, token string, n int, within time.Duration) []fnEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		evs := f.eventsFor(token)
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function received %d events for token %q within %v, want %d", len(evs), token, within, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *authorizerFn) serve(w http.ResponseWriter, r *http.Request) {
	var ev fnEvent
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&ev) != nil {
		http.Error(w, "want a POST of a JSON request event", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	a, ok := f.answer(ev.Token)
	s := f.moat
	f.mu.Unlock()
	switch {
	case !ok || a.deny:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"isAuthenticated": false}`))
	case a.slow:
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	case a.raw != "":
		_, _ = w.Write([]byte(a.raw))
	default:
		doc := a.policy
		if doc == "" {
			var stmts []statement
			if !a.noConnect {
				stmts = append(stmts, allow([]string{"iot:Connect"}, iotARN(s, "client", "*")))
			}
			doc = document(append(stmts, allowTopics(s, a.prefixes...)...)...)
		}
		b, _ := json.Marshal(map[string]any{
			"isAuthenticated": true, "principalId": "device42",
			"policyDocuments":       []string{doc},
			"refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 3600,
		})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

// signingKey signs tokens (RSA-SHA256, PKCS #1 v1.5, base64), as the
// device maker's back end does.
type signingKey struct {
	priv *rsa.PrivateKey
	pem  string // the public key, as CreateAuthorizer's tokenSigningPublicKeys take it
}

// newSigningKey makes a 2048-bit key, another one at each call (tests
// need a key that is not their authorizer's), unlike authorizertest.Key.
func newSigningKey(t testing.TB) signingKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{priv: priv, pem: authorizertest.PublicKeyPEM(t, &priv.PublicKey)}
}

// sign is the token's x-amz-customauthorizer-signature.
func (k signingKey) sign(token string) string {
	sum := sha256.Sum256([]byte(token))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// createAuthorizer creates an ACTIVE authorizer calling f, finding the
// token under tokenKeyName, verifying tokens signed by key (signing
// disabled when key is nil).
func createAuthorizer(t testing.TB, s *moattest.Server, name string, f *authorizerFn, tokenKeyName string, key *signingKey) {
	t.Helper()
	in := &iot.CreateAuthorizerInput{AuthorizerName: aws.String(name), AuthorizerFunctionArn: aws.String(f.srv.URL + "/authorize"),
		TokenKeyName: aws.String(tokenKeyName), Status: types.AuthorizerStatusActive}
	if key != nil {
		in.TokenSigningPublicKeys = map[string]string{"key1": key.pem}
	} else {
		in.SigningDisabled = aws.Bool(true)
	}
	if _, err := s.IoT().CreateAuthorizer(context.Background(), in); err != nil {
		t.Fatalf("CreateAuthorizer %s: %v", name, err)
	}
}

// updateAuthorizer calls UpdateAuthorizer with status, which re-checks the
// authorizer's live connections.
func updateAuthorizer(t testing.TB, s *moattest.Server, name string, status types.AuthorizerStatus) {
	t.Helper()
	if _, err := s.IoT().UpdateAuthorizer(context.Background(), &iot.UpdateAuthorizerInput{AuthorizerName: aws.String(name), Status: status}); err != nil {
		t.Fatalf("UpdateAuthorizer %s %s: %v", name, status, err)
	}
}

// customAuth are custom-authorizer credentials for an authorizer whose
// tokenKeyName is tokenKey: the authorizer's name, the token and its
// signature.
type customAuth struct{ name, token, sig string }

// header carries the credentials as HTTP headers (the WebSocket upgrade,
// an HTTPS publish).
func (c customAuth) header() http.Header {
	return http.Header{"X-Amz-Customauthorizer-Name": {c.name}, "X-Amz-Customauthorizer-Signature": {c.sig}, "Token": {c.token}}
}

// query carries the credentials as query parameters (a WebSocket URL).
func (c customAuth) query() string {
	return url.Values{"x-amz-customauthorizer-name": {c.name}, "x-amz-customauthorizer-signature": {c.sig}, tokenKey: {c.token}}.Encode()
}

// username is the MQTT CONNECT username carrying the credentials in its
// query string (reference §7.2).
func (c customAuth) username() string {
	return "device?x-amz-customauthorizer-name=" + url.QueryEscape(c.name) +
		"&x-amz-customauthorizer-signature=" + url.QueryEscape(c.sig) + "&" + tokenKey + "=" + url.QueryEscape(c.token)
}

// alpnPassword is the MQTT CONNECT password of the ALPN clients.
const alpnPassword = "p@ss"

// connectALPN connects MQTT 3.1.1 by TLS to the HTTPS port with ALPN
// "mqtt" and the credentials c in the CONNECT username (password
// alpnPassword). It returns the client (nil if refused) and the CONNACK's
// return code.
func connectALPN(t testing.TB, s *moattest.Server, c customAuth, clientID string) (*mqtt3Client, byte) {
	t.Helper()
	tlsConf := &tls.Config{RootCAs: s.RootCAs, ServerName: "localhost", NextProtos: []string{"mqtt"}, MinVersion: tls.VersionTLS12}
	m, code, err := dialMQTT3(t, "tls://"+s.HTTPSAddr, tlsConf, clientID, timeout, func(o *mqtt.ClientOptions) {
		o.SetUsername(c.username()).SetPassword(alpnPassword).SetKeepAlive(time.Minute)
	})
	if err != nil && code == 0 {
		t.Fatalf("connect %s: %v", clientID, err)
	}
	return m, code
}

// mustConnectALPN connects and fails unless the CONNACK accepts.
func mustConnectALPN(t testing.TB, s *moattest.Server, c customAuth, clientID string) *mqtt3Client {
	t.Helper()
	m, code := connectALPN(t, s, c, clientID)
	if m == nil {
		t.Fatalf("connect %s: CONNACK return code %d, want accepted", clientID, code)
	}
	return m
}
