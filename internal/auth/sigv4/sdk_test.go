package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Requests signed at test time by aws-sdk-go-v2's SigV4 signer, sent
// through net/http's wire format and read back as a server would.

const (
	testAKID   = "AKIDMOATEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "IQoJb3JpZ2luX2VjEXAMPLE//////////+token/with+plus=="
	tempAKID   = "ASIAMOATEXAMPLE"
)

var sdkTime = time.Date(2026, 1, 15, 10, 15, 0, 0, time.UTC)

func testVerifier() *Verifier {
	return &Verifier{
		Lookup: keyStore{
			testAKID: {Secret: testSecret},
			tempAKID: {Secret: testSecret, SessionToken: testToken},
		}.Lookup(),
		Services: []string{"iot", "iotdata", "iotdevicegateway"},
		Region:   "us-east-1",
		Now:      fixedNow(sdkTime.Add(30 * time.Second)),
	}
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// sdkSign builds a client request for rawURL (the path exactly as the SDK
// would send it, via URL.RawPath), signs it with the Go SDK, and returns the
// request as the server reads it.
func sdkSign(t testing.TB, method, rawURL string, body []byte, hdr http.Header, creds aws.Credentials, service string) (*http.Request, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		r.Header[k] = vs
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(body), service, "us-east-1", sdkTime); err != nil {
		t.Fatal(err)
	}
	return toServer(t, r)
}

func longTerm() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
}
func temporary() aws.Credentials {
	return aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: testSecret, SessionToken: testToken}
}

func TestVerifier_GoSDKHeaderSigned(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, url, service string
		body                       []byte
		hdr                        http.Header
		creds                      aws.Credentials
	}{
		// Checks a control-plane GET with a query string whose values need escaping.
		{"get-query", "GET", "https://localhost:8443/things?maxResults=10&attributeValue=dark+blue%2Fx&nextToken=a%3Db", "iot", nil, nil, longTerm()},
		// Checks a publish to a shadow topic: a path label holding %24 and %2F, which the SDK escapes again (%2524, %252F).
		{"post-topic-label", "POST", "https://localhost:8443/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate?qos=1", "iotdata", []byte(`{"state":{"desired":{"on":true}}}`), json, longTerm()},
		// Checks a path with a raw '$' (sent unescaped on the wire, escaped to %24 in the canonical URI).
		{"post-raw-dollar", "POST", "https://localhost:8443/topics/$aws/things/t1/shadow/get", "iotdata", []byte(`{}`), json, longTerm()},
		// Checks a PUT with a body, Content-Type and a non-default port in Host.
		{"put-body-port", "PUT", "https://moat.example:9443/things/lamp-1", "iot", []byte(`{"attributePayload":{"attributes":{"a":"b"}}}`), json, longTerm()},
		// Checks a DELETE with a query parameter and no body.
		{"delete-query", "DELETE", "https://localhost:8443/things/lamp-1?expectedVersion=3", "iot", nil, nil, longTerm()},
		// Checks temporary credentials: X-Amz-Security-Token is signed and must match the stored token.
		{"session-token", "GET", "https://localhost:8443/things/lamp-1/shadow?name=night%20mode", "iotdata", nil, nil, temporary()},
		// Checks the default HTTPS port (the SDK drops :443 from Host) and iotdevicegateway as signing name.
		{"default-port", "GET", "https://moat.example:443/things/lamp-1/shadow", "iotdevicegateway", nil, nil, longTerm()},
		// Checks a signed custom header with repeated values and inner spaces.
		{"custom-headers", "POST", "https://localhost:8443/topics/a?qos=0", "iotdata", []byte("x"), http.Header{"X-Custom": {"a  b", " c "}}, longTerm()},
		// Checks unicode and reserved characters in a path label.
		{"unicode-label", "GET", "https://localhost:8443/things/l%C3%A4mpe%20%2B1", "iot", nil, nil, longTerm()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := sdkSign(t, tt.method, tt.url, tt.body, tt.hdr, tt.creds, tt.service)
			res, err := testVerifier().Verify(context.Background(), r, body)
			if err != nil {
				t.Fatalf("Verify: %v\n(request target %s)", err, r.RequestURI)
			}
			if res.AccessKeyID != tt.creds.AccessKeyID || res.Service != tt.service || res.SessionToken != tt.creds.SessionToken || res.Presigned {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

// presign signs rawURL as a presigned GET with the Go SDK. expires, if
// non-zero, is put in X-Amz-Expires before signing.
func presign(t testing.TB, rawURL string, creds aws.Credentials, expires time.Duration, service string) string {
	t.Helper()
	r, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if expires > 0 {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
		r.URL.RawQuery = q.Encode()
	}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, emptySHA256, service, "us-east-1", sdkTime)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func getServer(t testing.TB, rawURL string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := toServer(t, r)
	return sr
}

func TestVerifier_GoSDKPresigned(t *testing.T) {
	// legacyToken presigns without the token, then appends it, as the v1
	// AWS IoT device SDKs (and aws-crt's omit_session_token) do.
	legacyToken := func(t *testing.T) string {
		u := presign(t, "wss://localhost:8443/mqtt", aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: testSecret}, 0, "iotdevicegateway")
		return u + "&X-Amz-Security-Token=" + url.QueryEscape(testToken)
	}
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		token string
	}{
		// Checks a presigned MQTT-over-WebSocket URL with long-term keys.
		{"mqtt-long-term", func(t *testing.T) string {
			return presign(t, "wss://localhost:8443/mqtt", longTerm(), 0, "iotdevicegateway")
		}, ""},
		// Checks a presigned URL whose session token is part of the canonical query (SDK behaviour).
		{"mqtt-token-signed", func(t *testing.T) string {
			return presign(t, "wss://localhost:8443/mqtt", temporary(), 0, "iotdevicegateway")
		}, testToken},
		// Checks a presigned URL whose session token was appended after signing (device SDK behaviour).
		{"mqtt-token-appended", legacyToken, testToken},
		// Checks X-Amz-Expires and an extra query parameter.
		{"expires-and-query", func(t *testing.T) string {
			return presign(t, "https://localhost:8443/things?maxResults=5", longTerm(), time.Hour, "iot")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := strings.Replace(tt.url(t), "wss://", "https://", 1)
			res, err := testVerifier().Verify(context.Background(), getServer(t, u), nil)
			if err != nil {
				t.Fatalf("Verify: %v\nurl %s", err, u)
			}
			if !res.Presigned || res.SessionToken != tt.token {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

// TestVerifier_RealServer checks the path handling end to end through a real
// net/http server: the handler verifies with the request as served.
func TestVerifier_RealServer(t *testing.T) {
	v := testVerifier()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			e := err.(*Error)
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			http.Error(w, e.Message, e.HTTPStatus())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, path := range []string{
		"/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate?qos=1", // Go SDK style label escaping
		"/topics/$aws/things/t1/shadow/update?qos=1",           // curl style raw path
		"/things/l%C3%A4mpe",                                   // escaped UTF-8
	} {
		// Checks that a request signed for this path verifies when served.
		t.Run(path, func(t *testing.T) {
			body := []byte(`{"x":1}`)
			r, err := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), longTerm(), r, hashHex(body), "iotdata", "us-east-1", sdkTime); err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), msg)
			}
		})
	}
}
