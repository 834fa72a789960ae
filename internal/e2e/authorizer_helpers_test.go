package e2e

// Helpers of the authorizer_* tests: a custom authorizer's function
// served by httptest, whose answer depends on the token it is given and
// which records every request event; a token-signing RSA key; and the
// three ways a client presents custom-authorizer credentials (MQTT 3.1.1
// by ALPN "mqtt" with the CONNECT username and password, headers on the
// WebSocket upgrade, headers on an HTTPS publish). Every name starts with
// "authz".

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

// authzTokenKey is the authorizers' tokenKeyName.
const authzTokenKey = "token"

// authzEvent is the request event moat POSTs to the function (reference
// §7.3).
type authzEvent struct {
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

// authzAnswer is what the function answers for a token.
type authzAnswer struct {
	// deny answers isAuthenticated false.
	deny bool
	// slow answers nothing until the caller gives up.
	slow bool
	// raw, if set, is the answer's body as it is.
	raw string
	// prefixes are the topic prefixes the returned policy allows
	// (publish, receive and subscribe under PREFIX/*).
	prefixes []string
	// noConnect leaves iot:Connect out of the policy.
	noConnect bool
}

// authzFunction is a custom authorizer's function: an HTTP endpoint that
// answers AWS's response document (reference §7.4) as its answers say,
// isAuthenticated false for an unknown token.
type authzFunction struct {
	srv *httptest.Server

	mu      sync.Mutex
	moat    *moattest.Server       // for the policies' ARNs; set by use
	answers map[string]authzAnswer // by token
	events  []authzEvent           // every event received, in order
}

// authzNewFunction starts a function; it stops when the test ends.
func authzNewFunction(t testing.TB) *authzFunction {
	f := &authzFunction{answers: map[string]authzAnswer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// use names the moat server whose ARNs the policies use.
func (f *authzFunction) use(s *moattest.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moat = s
}

// set makes the function answer a for token.
func (f *authzFunction) set(token string, a authzAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = a
}

// calls is how many events the function received, all tokens together.
func (f *authzFunction) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

// eventsFor are the events received for token, in order.
func (f *authzFunction) eventsFor(token string) []authzEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []authzEvent
	for _, e := range f.events {
		if e.Token == token {
			out = append(out, e)
		}
	}
	return out
}

// waitEvents waits until the function has received n events for token and
// returns them.
func (f *authzFunction) waitEvents(t testing.TB, token string, n int, within time.Duration) []authzEvent {
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

func (f *authzFunction) serve(w http.ResponseWriter, r *http.Request) {
	var ev authzEvent
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&ev) != nil {
		http.Error(w, "want a POST of a JSON request event", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	a, ok := f.answers[ev.Token]
	s := f.moat
	f.mu.Unlock()
	switch {
	case !ok || a.deny:
		_, _ = w.Write([]byte(`{"isAuthenticated": false}`))
	case a.slow:
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	case a.raw != "":
		_, _ = w.Write([]byte(a.raw))
	default:
		var stmts []appStatement
		if !a.noConnect {
			stmts = append(stmts, appAllow([]string{"iot:Connect"}, appIoTARN(s, "client", "*")))
		}
		stmts = append(stmts, appTopics(s, a.prefixes...)...)
		b, _ := json.Marshal(map[string]any{
			"isAuthenticated": true, "principalId": "device42",
			"policyDocuments":       []string{appDocument(stmts...)},
			"refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 3600,
		})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

// authzKey signs tokens (RSA-SHA256, PKCS #1 v1.5, base64), as the
// device maker's back end does.
type authzKey struct {
	priv *rsa.PrivateKey
	pem  string // the public key, for tokenSigningPublicKeys
}

func authzNewKey(t testing.TB) authzKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return authzKey{priv: priv, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// sign is the token's x-amz-customauthorizer-signature.
func (k authzKey) sign(token string) string {
	sum := sha256.Sum256([]byte(token))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// authzCreate creates an ACTIVE authorizer calling f, verifying tokens
// signed by key.
func authzCreate(t testing.TB, s *moattest.Server, name string, f *authzFunction, key authzKey) {
	t.Helper()
	_, err := s.IoT().CreateAuthorizer(context.Background(), &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String(name), AuthorizerFunctionArn: aws.String(f.srv.URL + "/authorize"),
		TokenKeyName: aws.String(authzTokenKey), TokenSigningPublicKeys: map[string]string{"key1": key.pem},
		Status: types.AuthorizerStatusActive,
	})
	if err != nil {
		t.Fatalf("CreateAuthorizer %s: %v", name, err)
	}
}

// authzUpdate calls UpdateAuthorizer with status, which re-checks the
// authorizer's live connections.
func authzUpdate(t testing.TB, s *moattest.Server, name string, status types.AuthorizerStatus) {
	t.Helper()
	if _, err := s.IoT().UpdateAuthorizer(context.Background(), &iot.UpdateAuthorizerInput{AuthorizerName: aws.String(name), Status: status}); err != nil {
		t.Fatalf("UpdateAuthorizer %s %s: %v", name, status, err)
	}
}

// authzCreds are custom-authorizer credentials: the authorizer's name, the
// token and its signature.
type authzCreds struct{ name, token, sig string }

// header carries the credentials as HTTP headers (the WebSocket upgrade,
// an HTTPS publish).
func (c authzCreds) header() http.Header {
	return http.Header{"X-Amz-Customauthorizer-Name": {c.name}, "X-Amz-Customauthorizer-Signature": {c.sig}, "Token": {c.token}}
}

// query carries the credentials as query parameters (a WebSocket URL).
func (c authzCreds) query() string {
	return url.Values{"x-amz-customauthorizer-name": {c.name}, "x-amz-customauthorizer-signature": {c.sig}, authzTokenKey: {c.token}}.Encode()
}

// username is the MQTT CONNECT username carrying the credentials in its
// query string (reference §7.2).
func (c authzCreds) username() string {
	return "device?x-amz-customauthorizer-name=" + url.QueryEscape(c.name) +
		"&x-amz-customauthorizer-signature=" + url.QueryEscape(c.sig) + "&" + authzTokenKey + "=" + url.QueryEscape(c.token)
}

// authzPassword is the MQTT CONNECT password of the ALPN clients.
const authzPassword = "p@ss"

// authzV3 is a paho.mqtt.golang MQTT 3.1.1 client connected by ALPN
// "mqtt" to the HTTPS port.
type authzV3 struct {
	t    testing.TB
	id   string
	c    mqtt.Client
	lost chan time.Time
}

// authzConnectV3 connects by TLS to the HTTPS port with ALPN "mqtt" and the
// credentials in the CONNECT username. It returns the client (nil if
// refused) and the CONNACK's return code.
func authzConnectV3(t testing.TB, s *moattest.Server, c authzCreds, clientID string) (*authzV3, byte) {
	t.Helper()
	a := &authzV3{t: t, id: clientID, lost: make(chan time.Time, 1)}
	opts := mqtt.NewClientOptions().AddBroker("tls://" + s.HTTPSAddr).SetClientID(clientID).SetProtocolVersion(4).
		SetUsername(c.username()).SetPassword(authzPassword).
		SetTLSConfig(&tls.Config{RootCAs: s.RootCAs, ServerName: "localhost", NextProtos: []string{"mqtt"}, MinVersion: tls.VersionTLS12}).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(appTimeout).SetKeepAlive(time.Minute).
		SetConnectionLostHandler(func(mqtt.Client, error) {
			select {
			case a.lost <- time.Now():
			default:
			}
		})
	a.c = mqtt.NewClient(opts)
	tok := a.c.Connect()
	if !tok.WaitTimeout(appTimeout) {
		t.Fatalf("connect %s: no CONNACK within %v", clientID, appTimeout)
	}
	code := tok.(*mqtt.ConnectToken).ReturnCode()
	if tok.Error() != nil {
		if code == 0 {
			t.Fatalf("connect %s: %v", clientID, tok.Error())
		}
		return nil, code
	}
	t.Cleanup(func() { a.c.Disconnect(50) })
	return a, code
}

// authzMustConnectV3 connects and fails unless the CONNACK accepts.
func authzMustConnectV3(t testing.TB, s *moattest.Server, c authzCreds, clientID string) *authzV3 {
	t.Helper()
	a, code := authzConnectV3(t, s, c, clientID)
	if a == nil {
		t.Fatalf("connect %s: CONNACK return code %d, want accepted", clientID, code)
	}
	return a
}

// publish publishes at QoS 1 and waits for the PUBACK.
func (a *authzV3) publish(topic, payload string) {
	a.t.Helper()
	if tok := a.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(appTimeout) || tok.Error() != nil {
		a.t.Fatalf("%s: publish %s: %v", a.id, topic, tok.Error())
	}
}

// kicked fails unless the server closes the connection within bound of
// since (MQTT 3.1.1 has no DISCONNECT from the server).
func (a *authzV3) kicked(since time.Time, bound time.Duration) {
	a.t.Helper()
	select {
	case at := <-a.lost:
		if d := at.Sub(since); d > bound {
			a.t.Fatalf("%s: closed %v after the change, want within %v", a.id, d, bound)
		} else {
			a.t.Logf("%s: closed %v after the change", a.id, d)
		}
	case <-time.After(appTimeout):
		a.t.Fatalf("%s: still connected %v after the change, want it closed", a.id, appTimeout)
	}
}

// MQTT 3.1.1 CONNACK return codes.
const (
	authzV3BadCredentials byte = 4 // bad user name or password
	authzV3NotAuthorized  byte = 5
)
