package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestNodeMQTTjs_CustomAuthorizer checks MQTT.js (v5, MQTT 5) over wss
// with custom-authorizer headers on the upgrade, against authorizers
// whose function is an httptest server: a token the function allows
// connects and publishes where its policy allows (a publish elsewhere
// gets PUBACK 0x87 and the connection goes on); a token it denies, and a
// token whose signature does not verify (the function is not called), are
// refused at the upgrade with HTTP 401, which MQTT.js reports.
func TestNodeMQTTjs_CustomAuthorizer(t *testing.T) {
	nodeRequire(t)
	srv, fn, key := nodeStartWithAuthorizers(t)
	goDevice := nodeConnectGoDevice(t, srv, "nodego-authz")
	goDevice.subscribe("node/js/#")

	tests := []struct {
		name    string
		headers map[string]string
		allowed bool
		called  bool // whether the function is called
	}{
		// No signature needed; the function allows the token.
		{"allowed", map[string]string{"x-amz-customauthorizer-name": "node-open", nodeTokenHeader: "allow-open"}, true, true},
		// No signature needed; the function denies the token.
		{"denied", map[string]string{"x-amz-customauthorizer-name": "node-open", nodeTokenHeader: "deny-open"}, false, true},
		// A token signed with the authorizer's key; the function allows it.
		{"signed", map[string]string{"x-amz-customauthorizer-name": "node-signed", nodeTokenHeader: "allow-signed",
			"x-amz-customauthorizer-signature": key.sign("allow-signed")}, true, true},
		// The signature of another token: refused before the function.
		{"bad-signature", map[string]string{"x-amz-customauthorizer-name": "node-signed", nodeTokenHeader: "allow-forged",
			"x-amz-customauthorizer-signature": key.sign("allow-other")}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fn.calls()
			allowedTopic, forbiddenTopic := "node/js/allowed/"+tt.name, "node/js/forbidden/"+tt.name
			p := nodeStart(t, srv, "mqttjs.js", map[string]any{"url": mqttURL(srv), "headers": tt.headers,
				"clientId": "nodejs-" + tt.name, "protocolVersion": 5, "publish": []map[string]string{
					{"topic": allowedTopic, "payload": "hello from MQTT.js"},
					{"topic": forbiddenTopic, "payload": "must not arrive"},
				}})
			if tt.allowed {
				p.expect("connected")
				if ev := p.expect("published"); ev.Topic != allowedTopic {
					t.Fatalf("published %s", ev)
				}
				if ev := p.expect("refused"); ev.Topic != forbiddenTopic || ev.ReasonCode != 0x87 {
					t.Fatalf("refused %s, want PUBACK 0x87 (not authorized) on %s", ev, forbiddenTopic)
				}
				p.expect("done")
				p.exit(0)
				goDevice.receive(allowedTopic, "hello from MQTT.js")
			} else {
				if ev := p.expect("failed"); !strings.Contains(ev.Reason, "401") {
					t.Fatalf("reason %q, want the upgrade's 401", ev.Reason)
				}
				p.exit(1)
			}
			calls := fn.allEvents()[before:]
			if !tt.called {
				if len(calls) != 0 {
					t.Fatalf("the function was called %d times", len(calls))
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("the function was called %d times, want once", len(calls))
			}
			ev := calls[0]
			if ev.Token != tt.headers[nodeTokenHeader] || ev.SignatureVerified != (tt.name == "signed") ||
				ev.ProtocolData.HTTP == nil || ev.ProtocolData.HTTP.Headers[nodeTokenHeader] != tt.headers[nodeTokenHeader] || !strings.Contains(strings.Join(ev.Protocols, ","), "http") {
				t.Errorf("the function got %+v", ev)
			}
		})
	}
	goDevice.noMessage(100 * time.Millisecond)
}

// TestNodeMQTTjs_Presigned checks MQTT.js (v5, MQTT 5) over wss with a
// URL presigned in Go for an assumed role's temporary credentials: it
// connects, receives what a Go-side device publishes and publishes what
// the device receives; the same URL used again is refused (403, a
// presigned URL opens one connection).
func TestNodeMQTTjs_Presigned(t *testing.T) {
	nodeRequire(t)
	srv := moattest.Start(t)
	creds := nodeAssumedRole(t, srv, "node-mqttjs-role", nodeMQTTPolicy(srv, "nodejs-"))
	goDevice := nodeConnectGoDevice(t, srv, "nodego-presigned")
	goDevice.subscribe("node/js/presigned/up")
	u := presignMQTT(t, srv, creds, expiresIn(5*time.Minute))
	if !strings.Contains(u, "X-Amz-Security-Token=") {
		t.Fatalf("URL %s has no session token", u)
	}
	opts := map[string]any{"url": u, "clientId": "nodejs-presigned", "protocolVersion": 5, "subscribe": "node/js/presigned/down",
		"publish": []map[string]string{{"topic": "node/js/presigned/up", "payload": "up from MQTT.js"}}}
	p := nodeStart(t, srv, "mqttjs.js", opts)
	p.expect("connected")
	p.expect("subscribed")
	goDevice.publish("node/js/presigned/down", "down from Go")
	if ev := p.expect("message"); ev.Topic != "node/js/presigned/down" || ev.Payload != "down from Go" {
		t.Fatalf("MQTT.js received %s", ev)
	}
	p.expect("published")
	p.expect("done")
	p.exit(0)
	goDevice.receive("node/js/presigned/up", "up from MQTT.js")

	// The URL again: refused.
	opts["clientId"] = "nodejs-replayed"
	p = nodeStart(t, srv, "mqttjs.js", opts)
	if ev := p.expect("failed"); !strings.Contains(ev.Reason, "403") {
		t.Fatalf("reason %q, want the upgrade's 403", ev.Reason)
	}
	p.exit(1)
	goDevice.noMessage(100 * time.Millisecond)
}
