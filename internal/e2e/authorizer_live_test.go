package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestAuthorizer_LiveChanges checks that a change to a custom authorizer
// bites on its live connections (MQTT 5 over WebSocket and MQTT 3.1.1 by
// ALPN "mqtt"): UpdateAuthorizer re-invokes the function for each (with
// the same connection id) and applies its new policies, closing the
// connections that may no longer connect; an authorizer made INACTIVE
// closes them within 1 s and refuses new ones without calling the
// function. (The refreshAfterInSeconds and disconnectAfterInSeconds
// timers are at least 300 s: internal/access's unit tests cover them with
// a fake clock.)
func TestAuthorizer_LiveChanges(t *testing.T) {
	s, f := startWithFn(t, fnTimeout)
	key := newSigningKey(t)
	createAuthorizer(t, s, "live", f, tokenKey, &key)
	createAuthorizer(t, s, "gate", f, tokenKey, &key)
	wsURL := mqttURL(s)
	creds := func(name, token string) customAuth { return customAuth{name: name, token: token, sig: key.sign(token)} }
	allowA := fnAnswer{prefixes: []string{"authz/A"}}

	// The function first allows topics A, then only B, then not
	// connecting: each UpdateAuthorizer applies its new answer.
	t.Run("refresh", func(t *testing.T) {
		f.set("live-ws", allowA)
		f.set("live-mqtt", allowA)
		ws := mustConnectMQTT5(t, s, wsURL, creds("live", "live-ws").header(), "live-ws")
		m := mustConnectALPN(t, s, creds("live", "live-mqtt"), "live-mqtt")
		ws.mustSubscribe("authz/A/#")
		m.publish("authz/A/mqtt", "before")
		ws.receive("authz/A/mqtt", "before")

		allowB := fnAnswer{prefixes: []string{"authz/B"}}
		f.set("live-ws", allowB)
		f.set("live-mqtt", allowB)
		since := time.Now()
		updateAuthorizer(t, s, "live", types.AuthorizerStatusActive)
		// A refresh names the same connection to the function, on both
		// transports.
		if evs := f.waitEvents(t, "live-ws", 2, liveBound); len(evs) != 2 || evs[1].ConnectionMetadata.ID != evs[0].ConnectionMetadata.ID {
			t.Fatalf("live-ws: events %+v, want a second one for the same connection id", evs)
		}
		if evs := f.waitEvents(t, "live-mqtt", 2, liveBound); len(evs) != 2 || evs[1].ConnectionMetadata.ID != evs[0].ConnectionMetadata.ID {
			t.Fatalf("live-mqtt: events %+v, want a second one for the same connection id", evs)
		}
		// The WebSocket may no longer publish to A, and may publish to B.
		for ws.publish("authz/A/ws", "after") != v5NotAuthorized {
			if time.Since(since) > liveBound {
				t.Fatalf("publish to A still allowed %v after UpdateAuthorizer", liveBound)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("the new policies applied %v after UpdateAuthorizer", time.Since(since))
		ws.mustSubscribe("authz/B/#")
		if code := ws.publish("authz/B/ws", "after"); code != v5Success {
			t.Fatalf("publish to B after the refresh: PUBACK 0x%02X", code)
		}
		ws.receive("authz/B/ws", "after")
		// The MQTT 3.1.1 connection got B too, and lost A.
		m.publish("authz/B/mqtt", "refreshed")
		ws.receive("authz/B/mqtt", "refreshed")
		kick := time.Now()
		m.c.Publish("authz/A/mqtt", 1, false, "refused")
		m.kicked(kick, timeout)

		// An answer without iot:Connect closes the connection.
		f.set("live-ws", fnAnswer{prefixes: []string{"authz/B"}, noConnect: true})
		since = time.Now()
		updateAuthorizer(t, s, "live", types.AuthorizerStatusActive)
		ws.disconnected(v5NotAuthorized, since)
	})

	// INACTIVE closes the authorizer's connections at once; new ones are
	// refused without calling the function.
	t.Run("inactive", func(t *testing.T) {
		f.set("gate-ws", allowA)
		f.set("gate-mqtt", allowA)
		ws := mustConnectMQTT5(t, s, wsURL, creds("gate", "gate-ws").header(), "gate-ws")
		m := mustConnectALPN(t, s, creds("gate", "gate-mqtt"), "gate-mqtt")
		// A connection of the other authorizer is not touched.
		f.set("live-other", allowA)
		other := mustConnectMQTT5(t, s, wsURL, creds("live", "live-other").header(), "live-other")
		other.mustSubscribe("authz/A/#")

		before := f.calls()
		since := time.Now()
		updateAuthorizer(t, s, "gate", types.AuthorizerStatusInactive)
		ws.disconnected(v5NotAuthorized, since)
		m.kicked(since, liveBound)

		wantRefusedEverywhere(t, s, creds("gate", "gate-ws"), v3NotAuthorized, "INACTIVE")
		if n := f.calls() - before; n != 0 {
			t.Fatalf("the function was called %d times for an INACTIVE authorizer, want never", n)
		}
		if code := other.publish("authz/A/other", "still here"); code != v5Success {
			t.Fatalf("the other authorizer's connection: PUBACK 0x%02X", code)
		}
		other.receive("authz/A/other", "still here")

		// ACTIVE again: it admits again.
		updateAuthorizer(t, s, "gate", types.AuthorizerStatusActive)
		wantStatus(t, "HTTPS publish", publishHTTPS(t, s, aws.Credentials{}, creds("gate", "gate-ws").header(), "authz/A/again", "x"), http.StatusOK, "")
	})
}
