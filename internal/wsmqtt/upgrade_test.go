package wsmqtt

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// upgradeRequest builds an upgrade request for the inspect tests.
func upgradeRequest(method, rawQuery string, header http.Header) *http.Request {
	r := &http.Request{Method: method, URL: &url.URL{Path: "/mqtt", RawQuery: rawQuery}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Protocol": {"mqtt"}}}
	for k, vs := range header {
		if vs == nil {
			delete(r.Header, k)
			continue
		}
		r.Header[k] = vs
	}
	return r
}

const sig = "aa7e0d0a3c6a1f4c2e0b7c7b5d6e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a"

// TestInspect checks the upgrade checks and the credential found, case by
// case.
func TestInspect(t *testing.T) {
	presigned := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig
	tests := []struct {
		name   string
		method string
		query  string
		header http.Header
		status int // 0: accepted
		cred   credKind
		sig    string
	}{
		// A presigned URL: its signature is found.
		{"presigned", "GET", presigned, nil, 0, credPresigned, sig},
		// An upper-case signature is the same signature.
		{"presigned-upper", "GET", strings.Replace(presigned, sig, strings.ToUpper(sig), 1), nil, 0, credPresigned, sig},
		// Two signatures: presigned, but no key for the replay cache (the verifier refuses it).
		{"two-signatures", "GET", presigned + "&X-Amz-Signature=" + sig, nil, 0, credPresigned, ""},
		// Only X-Amz-Credential: presigned (the verifier reports what is missing).
		{"credential-only", "GET", "X-Amz-Credential=x", nil, 0, credPresigned, ""},
		// A bad escape that mentions X-Amz-: presigned, for the verifier to refuse.
		{"bad-escape", "GET", "X-Amz-%zzSignature=1", nil, 0, credPresigned, ""},
		// Lower-case parameter names are not AWS's: no credential.
		{"lower-case-names", "GET", "x-amz-signature=" + sig, nil, 0, credNone, ""},
		// An Authorization header with SigV4.
		{"sigv4-header", "GET", "", http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=..."}}, 0, credSigV4Header, ""},
		// Subprotocol among others, any case.
		{"subprotocol-list", "GET", "", http.Header{"Sec-Websocket-Protocol": {"mqttv3.1, MQTT"}}, 0, credNone, ""},
		// Connection tokens in a list.
		{"connection-list", "GET", "", http.Header{"Connection": {"keep-alive, Upgrade"}}, 0, credNone, ""},
		// Not GET.
		{"post", "POST", "", nil, http.StatusMethodNotAllowed, 0, ""},
		// No Upgrade header.
		{"no-upgrade", "GET", "", http.Header{"Upgrade": nil}, http.StatusUpgradeRequired, 0, ""},
		// No Connection: Upgrade.
		{"no-connection", "GET", "", http.Header{"Connection": {"keep-alive"}}, http.StatusUpgradeRequired, 0, ""},
		// Another WebSocket version.
		{"version-8", "GET", "", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusBadRequest, 0, ""},
		// No key.
		{"no-key", "GET", "", http.Header{"Sec-Websocket-Key": nil}, http.StatusBadRequest, 0, ""},
		// No subprotocol.
		{"no-subprotocol", "GET", "", http.Header{"Sec-Websocket-Protocol": nil}, http.StatusBadRequest, 0, ""},
		// The legacy MQTT 3.1 name alone (the AWS IoT Device SDK for JavaScript v1).
		{"legacy-subprotocol", "GET", "", http.Header{"Sec-Websocket-Protocol": {"mqttv3.1"}}, 0, credNone, ""},
		// Another subprotocol only.
		{"wrong-subprotocol", "GET", "", http.Header{"Sec-Websocket-Protocol": {"mqttv5, wamp"}}, http.StatusBadRequest, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ref := inspect(upgradeRequest(tt.method, tt.query, tt.header))
			switch {
			case tt.status != 0 && (ref == nil || ref.status != tt.status):
				t.Fatalf("refusal %+v, want status %d", ref, tt.status)
			case tt.status == 0 && ref != nil:
				t.Fatalf("refused %+v", ref)
			case tt.status == 0 && (u.cred != tt.cred || u.signature != tt.sig):
				t.Fatalf("got %+v, want cred %d signature %q", u, tt.cred, tt.sig)
			}
		})
	}
	// HTTP/2 cannot upgrade.
	r := upgradeRequest("GET", "", nil)
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	if _, ref := inspect(r); ref == nil || ref.status != http.StatusUpgradeRequired || ref.header != nil {
		t.Fatalf("HTTP/2: %+v", ref)
	}
}

// FuzzInspect checks that inspect never panics and keeps its promises on
// any query and headers: an accepted request is a GET upgrade offering
// mqtt (or mqttv3.1), and a signature found is lower-case and appears in
// the query.
func FuzzInspect(f *testing.F) {
	f.Add("GET", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature="+sig, "Upgrade", "websocket", "mqtt", "")
	f.Add("GET", "X-Amz-Signature=%41%42", "keep-alive, upgrade", "WebSocket", "mqttv3.1,mqtt", "AWS4-HMAC-SHA256 x")
	f.Add("POST", "a=b&&=&X-Amz-%", "", "", "", "")
	f.Fuzz(func(t *testing.T, method, query, connection, upgradeHdr, protocols, authz string) {
		r := upgradeRequest(method, query, http.Header{"Connection": {connection}, "Upgrade": {upgradeHdr},
			"Sec-Websocket-Protocol": {protocols}, "Authorization": {authz}})
		u, ref := inspect(r)
		if ref != nil {
			if ref.status < 400 || ref.reason == "" {
				t.Fatalf("refusal %+v", ref)
			}
			return
		}
		if method != http.MethodGet || (!headerHasToken([]string{protocols}, Subprotocol) && !headerHasToken([]string{protocols}, LegacySubprotocol)) {
			t.Fatalf("accepted %q with protocols %q", method, protocols)
		}
		if u.signature != "" {
			if u.cred != credPresigned || u.signature != strings.ToLower(u.signature) {
				t.Fatalf("signature %q with cred %d", u.signature, u.cred)
			}
			if uq, err := url.QueryUnescape(query); err == nil && !strings.Contains(strings.ToLower(uq), u.signature) {
				t.Fatalf("signature %q not in query %q", u.signature, query)
			}
		}
	})
}
