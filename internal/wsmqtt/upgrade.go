package wsmqtt

import (
	"net/http"
	"net/url"
	"strings"
)

// Subprotocol is the WebSocket subprotocol MQTT requires (MQTT 5 §6.0,
// [MQTT-6.0.0-3]). The server prefers it when a client offers several.
const Subprotocol = "mqtt"

// LegacySubprotocol is the subprotocol name MQTT 3.1 used, which some
// clients still send for MQTT 3.1.1: the AWS IoT Device SDK for
// JavaScript v1 (npm aws-iot-device-sdk, device/lib/ws.js) offers only
// this one, and AWS IoT Core accepts it, as Mosquitto does. It is
// accepted, and echoed, when the client does not offer Subprotocol; the
// MQTT inside is whatever version the CONNECT names.
const LegacySubprotocol = "mqttv3.1"

// subprotocols are the accepted subprotocols, in order of preference.
var subprotocols = []string{Subprotocol, LegacySubprotocol}

// credKind is the kind of credential an upgrade request carries, as seen
// before anything is verified.
type credKind int

const (
	credNone        credKind = iota // nothing: a client certificate, or a refusal
	credPresigned                   // X-Amz-* signature parameters in the query (SigV4 presigned URL)
	credSigV4Header                 // an AWS4-HMAC-SHA256 Authorization header: not accepted here
)

// upgrade is what inspect found in a valid upgrade request.
type upgrade struct {
	cred credKind
	// signature is the presigned URL's X-Amz-Signature, lower-cased (the
	// replay cache's key); "" unless it appears exactly once.
	signature string
}

// refusal is an upgrade request refused before any MQTT: the HTTP status,
// a short reason for the client and the log, and the metric label.
type refusal struct {
	status int
	reason string
	result string
	// header are response headers the status calls for (Upgrade,
	// Sec-WebSocket-Version, Allow).
	header http.Header
}

// Refusal results (the result label of moat_mqtt_websocket_upgrades_total).
const (
	resultBadRequest    = "bad_request"
	resultNoCredentials = "no_credentials"
	resultSignature     = "signature"
	resultReplayed      = "replayed"
	resultReplayFull    = "replay_cache_full"
	resultCustomAuth    = "custom_auth"
	resultUpgradeFailed = "upgrade_failed"
	resultAccepted      = "accepted"
)

// inspect checks that r is a WebSocket upgrade request for MQTT (RFC 6455
// §4.2.1) and finds which credential it carries. It verifies nothing: it
// is the cheap, secret-free part, run before a presigned URL is verified
// and spent, so that a URL is not used up by a request that cannot become
// a connection anyway.
func inspect(r *http.Request) (upgrade, *refusal) {
	if r.Method != http.MethodGet {
		return upgrade{}, &refusal{status: http.StatusMethodNotAllowed, result: resultBadRequest,
			reason: "MQTT over WebSocket takes GET", header: http.Header{"Allow": {http.MethodGet}}}
	}
	if r.ProtoMajor != 1 || !r.ProtoAtLeast(1, 1) ||
		!headerHasToken(r.Header.Values("Connection"), "upgrade") || !headerHasToken(r.Header.Values("Upgrade"), "websocket") {
		ref := &refusal{status: http.StatusUpgradeRequired, result: resultBadRequest,
			reason: "MQTT over WebSocket needs an HTTP/1.1 WebSocket upgrade request"}
		if r.ProtoMajor == 1 {
			ref.header = http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}
		}
		return upgrade{}, ref
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		return upgrade{}, &refusal{status: http.StatusBadRequest, result: resultBadRequest,
			reason: "unsupported WebSocket version: 13 is required", header: http.Header{"Sec-WebSocket-Version": {"13"}}}
	}
	if k := r.Header.Values("Sec-WebSocket-Key"); len(k) != 1 || strings.TrimSpace(k[0]) == "" {
		return upgrade{}, &refusal{status: http.StatusBadRequest, result: resultBadRequest,
			reason: "the upgrade request needs one Sec-WebSocket-Key"}
	}
	if offered := r.Header.Values("Sec-WebSocket-Protocol"); !headerHasToken(offered, Subprotocol) && !headerHasToken(offered, LegacySubprotocol) {
		return upgrade{}, &refusal{status: http.StatusBadRequest, result: resultBadRequest,
			reason: "the WebSocket subprotocol mqtt is required (Sec-WebSocket-Protocol: mqtt)"}
	}
	var u upgrade
	if sig, ok := presignedSignature(r.URL.RawQuery); ok {
		u.cred, u.signature = credPresigned, sig
	} else if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "AWS4-") {
		u.cred = credSigV4Header
	}
	return u, nil
}

// presignedSignature reports whether the raw query carries SigV4
// presigned-URL parameters (X-Amz-Algorithm, X-Amz-Credential or
// X-Amz-Signature, matched case-sensitively as AWS does), and returns the
// X-Amz-Signature value, lower-cased, when it appears exactly once. A query
// that cannot be decoded but mentions X-Amz- counts as presigned: the
// verifier then refuses it, rather than the request being taken for one
// without credentials.
func presignedSignature(rawQuery string) (string, bool) {
	found, sigs, sig := false, 0, ""
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			found = found || strings.Contains(k, "X-Amz-")
			continue
		}
		switch key {
		case "X-Amz-Signature":
			sigs++
			if s, err := url.QueryUnescape(v); err == nil {
				sig = strings.ToLower(s)
			}
			found = true
		case "X-Amz-Algorithm", "X-Amz-Credential":
			found = true
		}
	}
	if sigs != 1 {
		sig = ""
	}
	return sig, found
}

// headerHasToken reports whether the comma-separated header values hold
// token, compared case-insensitively (RFC 9110 §5.6.1 lists; Connection
// and Upgrade tokens are case-insensitive, and the WebSocket library
// matches subprotocols the same way).
func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
