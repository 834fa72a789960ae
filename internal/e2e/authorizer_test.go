package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// fnTimeout is the server's authorizer timeout in these tests
// (--authorizer-timeout; AWS's and moat's default is 5 s), so that the
// slow-function case takes one second.
const fnTimeout = time.Second

// tooManyPolicies is an answer with 11 policy documents (at most 10
// are allowed).
var tooManyPolicies = `{"isAuthenticated": true, "principalId": "p", "policyDocuments": [` +
	strings.TrimSuffix(strings.Repeat(`"{\"Version\":\"2012-10-17\",\"Statement\":[]}",`, 11), ",") + `]}`

// TestAuthorizer_Transports checks a custom authorizer (its function an
// httptest server, tokens signed with an RSA key made here) on every
// transport: MQTT 3.1.1 by ALPN "mqtt" on the HTTPS port (the
// credentials in the CONNECT username's query string, a password), MQTT
// 5 over WebSocket (headers or query parameters on the upgrade), and
// HTTPS publish (headers).
// Allowed: what the returned policy allows, nothing else; refused: an
// answer of isAuthenticated false, a bad token signature (the function
// never called), an answer that is not valid, an unknown authorizer, a
// function slower than the timeout; and TestInvokeAuthorizer through the
// SDK.
func TestAuthorizer_Transports(t *testing.T) {
	s, f := startWithFn(t, fnTimeout)
	key := newSigningKey(t)
	createAuthorizer(t, s, "tokens", f, tokenKey, &key)
	f.set("A", fnAnswer{prefixes: []string{"authz/A"}})
	f.set("deny", fnAnswer{deny: true})
	f.set("slow", fnAnswer{slow: true})
	f.set("notjson", fnAnswer{raw: "<html>oops</html>"})
	f.set("toomany", fnAnswer{raw: tooManyPolicies})
	signed := func(token string) customAuth { return customAuth{name: "tokens", token: token, sig: key.sign(token)} }
	wsURL := mqttURL(s)
	ctx := context.Background()

	// The returned policy decides, on each transport; the function sees
	// AWS's request event of each.
	t.Run("allow", func(t *testing.T) {
		a := signed("A")
		sub := mustConnectMQTT5(t, s, wsURL, a.header(), "ws-A")
		sub.mustSubscribe("authz/A/#")
		if code := sub.subscribe("authz/B/#"); code != v5NotAuthorized {
			t.Fatalf("subscribe outside the policy: SUBACK 0x%02X, want 0x87", code)
		}
		m := mustConnectALPN(t, s, a, "mqtt-A")
		m.publish("authz/A/mqtt", "over alpn")
		sub.receive("authz/A/mqtt", "over alpn")
		wantStatus(t, "HTTPS publish", publishHTTPS(t, s, aws.Credentials{}, a.header(), "authz/A/https", "over https"), http.StatusOK, "")
		sub.receive("authz/A/https", "over https")
		if code := sub.publish("authz/A/ws", "over websocket"); code != v5Success {
			t.Fatalf("WebSocket publish: PUBACK 0x%02X", code)
		}
		sub.receive("authz/A/ws", "over websocket")
		// The credentials may be query parameters of the WebSocket URL
		// instead.
		q := mustConnectMQTT5(t, s, wsURL+"?"+a.query(), nil, "ws-A-query")
		if code := q.publish("authz/A/query", "by query"); code != v5Success {
			t.Fatalf("WebSocket (query) publish: PUBACK 0x%02X", code)
		}
		sub.receive("authz/A/query", "by query")

		if code := sub.publish("authz/B/ws", "refused"); code != v5NotAuthorized {
			t.Fatalf("WebSocket publish outside the policy: PUBACK 0x%02X, want 0x87", code)
		}
		wantStatus(t, "HTTPS publish outside the policy", publishHTTPS(t, s, aws.Credentials{}, a.header(), "authz/B/https", "refused"),
			http.StatusForbidden, "ForbiddenException")
		// MQTT 3.1.1 cannot refuse one PUBLISH: the connection is closed.
		since := time.Now()
		m.c.Publish("authz/B/mqtt", 1, false, "refused")
		m.kicked(since, timeout)
		sub.noMessage(100 * time.Millisecond)

		// One event per connection, one per HTTPS request.
		evs := f.eventsFor("A")
		if len(evs) != 5 {
			t.Fatalf("the function received %d events for the token, want 5 (two WebSockets, MQTT, two HTTPS publishes)", len(evs))
		}
		var mqttEvents, httpEvents int
		for _, e := range evs {
			switch {
			case !e.SignatureVerified || e.ConnectionMetadata.ID == "" || e.ProtocolData.TLS == nil:
				t.Fatalf("event %+v: want signatureVerified, a connection id and TLS data", e)
			case slices.Equal(e.Protocols, []string{"tls", "mqtt"}):
				mq := e.ProtocolData.MQTT
				if mq == nil || mq.Username != a.username() || mq.Password != base64.StdEncoding.EncodeToString([]byte(alpnPassword)) ||
					mq.ClientID != "mqtt-A" || e.ProtocolData.TLS.ServerName != "localhost" || e.ProtocolData.HTTP != nil {
					t.Fatalf("MQTT event: %+v %+v", e, mq)
				}
				mqttEvents++
			case slices.Equal(e.Protocols, []string{"tls", "http"}):
				h := e.ProtocolData.HTTP
				byHeader := h != nil && h.Headers["token"] == "A" && h.Headers["x-amz-customauthorizer-name"] == "tokens"
				byQuery := h != nil && h.QueryString == "?"+a.query()
				if byHeader == byQuery || e.ProtocolData.MQTT != nil {
					t.Fatalf("HTTP event: %+v %+v, want the credentials in the headers or the query string", e, h)
				}
				httpEvents++
			default:
				t.Fatalf("event with protocols %v", e.Protocols)
			}
		}
		if mqttEvents != 1 || httpEvents != 4 {
			t.Fatalf("%d MQTT and %d HTTP events, want 1 and 4", mqttEvents, httpEvents)
		}
	})

	// isAuthenticated false refuses on every transport.
	t.Run("deny", func(t *testing.T) {
		d := signed("deny")
		wantRefusedEverywhere(t, s, d, v3BadCredentials, "isAuthenticated false")
		if n := len(f.eventsFor("deny")); n != 3 {
			t.Fatalf("the function received %d events, want 3", n)
		}
	})

	// A token whose signature does not verify is refused before the
	// function is called.
	t.Run("bad signature", func(t *testing.T) {
		before := f.calls()
		other := newSigningKey(t)
		for name, c := range map[string]customAuth{
			"signature of another token": {name: "tokens", token: "A", sig: key.sign("B")},
			"another key":                {name: "tokens", token: "A", sig: other.sign("A")},
			"not a signature":            {name: "tokens", token: "A", sig: "bm90IGEgc2lnbmF0dXJl"},
			"no signature":               {name: "tokens", token: "A"},
		} {
			t.Run(name, func(t *testing.T) { wantRefusedEverywhere(t, s, c, v3BadCredentials, "signature") })
		}
		if n := f.calls(); n != before {
			t.Fatalf("the function was called %d times for bad signatures, want never", n-before)
		}
	})

	// A function's answer that is not a valid response document refuses.
	t.Run("bad answer", func(t *testing.T) {
		for _, token := range []string{"notjson", "toomany"} {
			t.Run(token, func(t *testing.T) {
				wantRefusedEverywhere(t, s, signed(token), v3NotAuthorized, "response is not valid")
				if n := len(f.eventsFor(token)); n != 3 {
					t.Fatalf("the function received %d events, want 3", n)
				}
			})
		}
	})

	// An authorizer that does not exist refuses.
	t.Run("unknown authorizer", func(t *testing.T) {
		c := signed("A")
		c.name = "nope"
		wantRefusedEverywhere(t, s, c, v3NotAuthorized, "no such authorizer")
	})

	// A function slower than the timeout refuses once the timeout is
	// over.
	t.Run("slow function", func(t *testing.T) {
		c := signed("slow")
		start := time.Now()
		r := publishHTTPS(t, s, aws.Credentials{}, c.header(), "authz/A/slow", "x")
		took := time.Since(start)
		wantStatus(t, "HTTPS publish", r, http.StatusForbidden, "did not answer within")
		if took < fnTimeout || took > fnTimeout+2*time.Second {
			t.Fatalf("refused after %v, want after the %v timeout", took, fnTimeout)
		}
		if m, code := connectALPN(t, s, c, "mqtt-slow"); m != nil || code != v3NotAuthorized {
			t.Fatalf("MQTT connect: CONNACK return code %d, want %d", code, v3NotAuthorized)
		}
	})

	// TestInvokeAuthorizer runs the same path and shows the answer.
	t.Run("TestInvokeAuthorizer", func(t *testing.T) {
		c := s.IoT()
		invoke := func(token, sig string) (*iot.TestInvokeAuthorizerOutput, error) {
			return c.TestInvokeAuthorizer(ctx, &iot.TestInvokeAuthorizerInput{AuthorizerName: aws.String("tokens"),
				Token: aws.String(token), TokenSignature: aws.String(sig)})
		}
		out, err := invoke("A", key.sign("A"))
		if err != nil {
			t.Fatalf("TestInvokeAuthorizer: %v", err)
		}
		if !aws.ToBool(out.IsAuthenticated) || aws.ToString(out.PrincipalId) != "device42" || len(out.PolicyDocuments) != 1 ||
			!strings.Contains(out.PolicyDocuments[0], iotARN(s, "topic", "authz/A/*")) ||
			aws.ToInt32(out.RefreshAfterInSeconds) != 300 || aws.ToInt32(out.DisconnectAfterInSeconds) != 3600 {
			t.Fatalf("TestInvokeAuthorizer = %+v", out)
		}
		if out, err := invoke("deny", key.sign("deny")); err != nil || aws.ToBool(out.IsAuthenticated) {
			t.Fatalf("TestInvokeAuthorizer of a denied token = %+v, %v; want isAuthenticated false", out, err)
		}
		before := f.calls()
		_, err = invoke("A", key.sign("B"))
		wantErrorMessage(t, err, "InvalidRequestException", "signature")
		if f.calls() != before {
			t.Fatal("TestInvokeAuthorizer called the function for a bad signature")
		}
		_, err = invoke("notjson", key.sign("notjson"))
		wantErrorMessage(t, err, "InvalidResponseException", "<html>oops</html>")
	})
}

// wantRefusedEverywhere fails unless the credentials c are refused on every
// transport: MQTT 3.1.1 by ALPN with CONNACK return code v3Code, the
// WebSocket upgrade with HTTP 401, HTTPS publish with 403 and a message
// containing want.
func wantRefusedEverywhere(t *testing.T, s *moattest.Server, c customAuth, v3Code byte, want string) {
	t.Helper()
	if m, code := connectALPN(t, s, c, "refused"); m != nil || code != v3Code {
		t.Errorf("MQTT connect: CONNACK return code %d, want %d", code, v3Code)
	}
	if ws, r := dialWS(t, s, mqttURL(s), c.header()); ws != nil || r.status != http.StatusUnauthorized {
		t.Errorf("WebSocket upgrade: HTTP %d %s, want 401", r.status, r.body)
	}
	wantStatus(t, "HTTPS publish", publishHTTPS(t, s, aws.Credentials{}, c.header(), "authz/A/refused", "x"), http.StatusForbidden, want)
}
