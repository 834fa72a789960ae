package control_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestBadInput sends malformed requests over signed raw HTTP and checks
// each gets a clear AWS-shaped error and creates nothing.
func TestBadInput(t *testing.T) {
	srv := moattest.Start(t)
	policyPath := "/policies/p1"
	big := bytes.Repeat([]byte("a"), int(srv.Config.Limits.MaxRequestBody)+1)
	tests := []struct {
		name        string
		method      string
		path        string
		body        []byte
		contentType string
		status      int
		code        string
		msg         string // a part of the message
	}{
		// a body that is not JSON
		{"bad json", "POST", policyPath, []byte(`{"policyDocument":`), "", 400, "InvalidRequestException", "JSON"},
		// a member of the wrong type names the member
		{"wrong type", "POST", policyPath, []byte(`{"policyDocument":42}`), "", 400, "InvalidRequestException", "policyDocument"},
		// a JSON array where an object belongs
		{"not an object", "POST", policyPath, []byte(`[1,2]`), "", 400, "InvalidRequestException", "object"},
		// trailing data after the object
		{"trailing data", "POST", policyPath, []byte(`{"policyDocument":"x"} {}`), "", 400, "InvalidRequestException", "after"},
		// a content type that is not JSON
		{"content type", "POST", policyPath, []byte(`{"policyDocument":"{}"}`), "text/plain", 415, "InvalidRequestException", "Content-Type"},
		// a body over the configured limit
		{"oversize", "POST", policyPath, big, "", 413, "InvalidRequestException", "maximum size"},
		// a missing required member
		{"missing member", "POST", policyPath, []byte(`{}`), "", 400, "InvalidRequestException", "policyDocument"},
		// an unknown enum value in the query
		{"bad enum", "GET", "/endpoint?endpointType=iot:Nope", nil, "", 400, "InvalidRequestException", "endpointType"},
		// a page size out of range
		{"bad page size", "GET", "/things?maxResults=0", nil, "", 400, "InvalidRequestException", "maxResults"},
		// a boolean that is not one
		{"bad bool", "POST", "/keys-and-certificate?setAsActive=yes", nil, "", 400, "InvalidRequestException", "setAsActive"},
		// a path no operation has
		{"unknown path", "GET", "/no/such/thing", nil, "", 404, "UnknownOperationException", "/no/such/thing"},
		// a known path with a method it does not take
		{"unknown method", "PATCH", "/keys-and-certificate", nil, "", 405, "MethodNotAllowedException", "PATCH"},
		// a thing name over 128 characters
		{"long name", "POST", "/things/" + strings.Repeat("a", 129), nil, "", 400, "InvalidRequestException", "thingName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			if tt.contentType != "" {
				hdr.Set("Content-Type", tt.contentType)
			}
			resp, body := srv.Do(t, tt.method, tt.path, tt.body, "iot", hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tt.code {
				t.Fatalf("X-Amzn-ErrorType = %q, want %q", got, tt.code)
			}
			var e struct{ Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %q is not JSON: %v", body, err)
			}
			if e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error body = %+v, want code %s and a message with %q", e, tt.code, tt.msg)
			}
			if resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Fatal("no request id")
			}
		})
	}
	// Nothing was created by any of them.
	for _, p := range []string{"/policies", "/certificates", "/things"} {
		resp, body := srv.Do(t, "GET", p, nil, "iot", nil)
		if resp.StatusCode != 200 || bytes.Contains(body, []byte("Arn")) {
			t.Fatalf("GET %s after bad input = %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestUnsigned checks that a request with no signature at all is refused.
func TestUnsigned(t *testing.T) {
	srv := moattest.Start(t)
	resp, err := srv.HTTPClient().Post(srv.URL+"/things/x", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned request = %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestBadCursor checks a forged pagination token is an
// InvalidRequestException, not an internal failure.
func TestBadCursor(t *testing.T) {
	srv := moattest.Start(t)
	for _, p := range []string{"/things?nextToken=garbage!", "/certificates?marker=garbage!", "/policies?marker=%00%01"} {
		resp, body := srv.Do(t, "GET", p, nil, "iot", nil)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidRequestException" {
			t.Fatalf("GET %s = %d %s", p, resp.StatusCode, body)
		}
	}
}
