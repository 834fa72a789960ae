package data_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/moattest"
)

// shadowDoc decodes a shadow document.
func shadowDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// wantError checks an AWS error answer: status, X-Amzn-ErrorType and a
// message.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("X-Amzn-Errortype") != code {
		t.Fatalf("status %d %s (%s), want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body, status, code)
	}
	var e struct{ Message string }
	if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
		t.Errorf("error body %s: want a message", body)
	}
}

// TestShadowHTTP_SigV4 drives the shadow calls of iot-data as an app
// does, signed with SigV4 (iotdata): update, get, a device's MQTT
// subscription seeing the delta of an HTTPS update, version conflict,
// bad input, named shadows and their listing, delete.
func TestShadowHTTP_SigV4(t *testing.T) {
	srv := moattest.Start(t)
	watcher := srv.NewDevice(t, "", policy(srv, appPolicy))
	msgs := subscriber(t, srv, watcher, "app-1", "$aws/things/lamp-1/shadow/#")

	resp, body := srv.Do(t, "GET", "/things/lamp-1/shadow", nil, "iotdata", nil)
	wantError(t, resp, body, 404, "ResourceNotFoundException")

	resp, body = srv.Do(t, "POST", "/things/lamp-1/shadow", []byte(`{"state":{"desired":{"color":"green"}},"clientToken":"app"}`), "iotdata", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("UpdateThingShadow: %d %s", resp.StatusCode, body)
	}
	acc := shadowDoc(t, body)
	if acc["version"] != 1.0 || acc["clientToken"] != "app" {
		t.Fatalf("UpdateThingShadow answer: %s", body)
	}
	// The same messages as an MQTT update: accepted, delta, documents.
	for _, want := range []string{"update/accepted", "update/delta", "update/documents"} {
		select {
		case m := <-msgs:
			if m.Topic != "$aws/things/lamp-1/shadow/"+want {
				t.Fatalf("MQTT got %s, want .../%s", m.Topic, want)
			}
		case <-time.After(waitFor):
			t.Fatalf("MQTT: no %s after an HTTPS update", want)
		}
	}

	resp, body = srv.Do(t, "GET", "/things/lamp-1/shadow", nil, "iotdata", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GetThingShadow: %d %s", resp.StatusCode, body)
	}
	g := shadowDoc(t, body)
	if g["version"] != 1.0 {
		t.Errorf("GetThingShadow: %s", body)
	}
	if d, _ := g["state"].(map[string]any)["delta"].(map[string]any); d["color"] != "green" {
		t.Errorf("GetThingShadow delta: %s", body)
	}

	// Refusals change nothing.
	resp, body = srv.Do(t, "POST", "/things/lamp-1/shadow", []byte(`{"state":{"desired":{"color":"red"}},"version":7}`), "iotdata", nil)
	wantError(t, resp, body, 409, "ConflictException")
	resp, body = srv.Do(t, "POST", "/things/lamp-1/shadow", []byte(`{"state":`), "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")
	resp, body = srv.Do(t, "POST", "/things/lamp-1/shadow", []byte(`{"state":{"desired":{"x":"`+strings.Repeat("x", 9000)+`"}}}`), "iotdata", nil)
	wantError(t, resp, body, 413, "RequestEntityTooLargeException")
	resp, body = srv.Do(t, "GET", "/things/bad%20name/shadow", nil, "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")
	resp, body = srv.Do(t, "GET", "/things/lamp-1/shadow?name=", nil, "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")
	resp, body = srv.Do(t, "GET", "/things/lamp-1/shadow?name=a&name=b", nil, "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")
	resp, body = srv.Do(t, "PUT", "/things/lamp-1/shadow", nil, "iotdata", nil)
	wantError(t, resp, body, 405, "MethodNotAllowedException")
	if _, body = srv.Do(t, "GET", "/things/lamp-1/shadow", nil, "iotdata", nil); shadowDoc(t, body)["version"] != 1.0 {
		t.Errorf("after refused updates: %s", body)
	}

	// Named shadows, listed in name order, paged.
	for _, n := range []string{"b-cfg", "a-cfg", "c-cfg"} {
		if resp, body = srv.Do(t, "POST", "/things/lamp-1/shadow?name="+n, []byte(`{"state":{"reported":{"n":1}}}`), "iotdata", nil); resp.StatusCode != 200 {
			t.Fatalf("update %s: %d %s", n, resp.StatusCode, body)
		}
	}
	resp, body = srv.Do(t, "GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-1?pageSize=2", nil, "iotdata", nil)
	var page struct {
		Results   []string
		NextToken *string
		Timestamp int64
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ListNamedShadowsForThing: %d %s", resp.StatusCode, body)
	}
	if strings.Join(page.Results, ",") != "a-cfg,b-cfg" || page.NextToken == nil || page.Timestamp == 0 {
		t.Fatalf("first page: %s", body)
	}
	_, body = srv.Do(t, "GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-1?pageSize=2&nextToken="+*page.NextToken, nil, "iotdata", nil)
	page.NextToken = nil
	if err := json.Unmarshal(body, &page); err != nil || strings.Join(page.Results, ",") != "c-cfg" || page.NextToken != nil {
		t.Fatalf("second page: %s", body)
	}
	resp, body = srv.Do(t, "GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-1?pageSize=101", nil, "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")
	resp, body = srv.Do(t, "GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-1?nextToken=garbage", nil, "iotdata", nil)
	wantError(t, resp, body, 400, "InvalidRequestException")

	// Delete: the answer carries the version; the shadow is gone.
	resp, body = srv.Do(t, "DELETE", "/things/lamp-1/shadow?name=a-cfg", nil, "iotdata", nil)
	if resp.StatusCode != 200 || shadowDoc(t, body)["version"] != 1.0 {
		t.Fatalf("DeleteThingShadow: %d %s", resp.StatusCode, body)
	}
	resp, body = srv.Do(t, "DELETE", "/things/lamp-1/shadow?name=a-cfg", nil, "iotdata", nil)
	wantError(t, resp, body, 404, "ResourceNotFoundException")

	// Unsigned: refused.
	req, _ := http.NewRequest("GET", srv.URL+"/things/lamp-1/shadow", nil)
	r, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 403 {
		t.Errorf("unsigned GetThingShadow: %d, want 403", r.StatusCode)
	}
}

// TestShadowHTTP_Certificate: a device certificate on the HTTPS port may
// do exactly what its policy allows on thing/{name}[/{shadow}].
func TestShadowHTTP_Certificate(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "", policy(srv, `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow"], "Resource": "arn:aws:iot:REGION:ACCOUNT:thing/lamp-1"},
    {"Effect": "Allow", "Action": "iot:UpdateThingShadow", "Resource": "arn:aws:iot:REGION:ACCOUNT:thing/lamp-1/cfg"},
    {"Effect": "Allow", "Action": "iot:ListNamedShadowsForThing", "Resource": "arn:aws:iot:REGION:ACCOUNT:thing/lamp-1"}
  ]
}`))
	cli := srv.HTTPClient(d.TLS)
	do := func(method, path, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := cli.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	if resp, body := do("POST", "/things/lamp-1/shadow", `{"state":{"reported":{"on":true}}}`); resp.StatusCode != 200 {
		t.Fatalf("allowed update: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/things/lamp-1/shadow", ""); resp.StatusCode != 200 {
		t.Fatalf("allowed get: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("POST", "/things/lamp-1/shadow?name=cfg", `{"state":{"reported":{"on":true}}}`); resp.StatusCode != 200 {
		t.Fatalf("allowed named update: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-1", ""); resp.StatusCode != 200 {
		t.Fatalf("allowed list: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, path, body string }{
		{"DELETE", "/things/lamp-1/shadow", ""},                                        // no DeleteThingShadow
		{"GET", "/things/lamp-1/shadow?name=cfg", ""},                                  // named: thing/lamp-1/cfg, get not allowed
		{"POST", "/things/lamp-2/shadow", `{"state":{"reported":{"x":1}}}`},            // another thing
		{"POST", "/things/lamp-1/shadow?name=other", `{"state":{"reported":{"x":1}}}`}, // another named shadow
		{"GET", "/api/things/shadow/ListNamedShadowsForThing/lamp-2", ""},
	} {
		resp, body := do(c.method, c.path, c.body)
		wantError(t, resp, body, 403, "ForbiddenException")
	}
	// Nothing was changed by the refusals.
	_, body := srv.Do(t, "GET", "/things/lamp-1/shadow", nil, "iotdata", nil)
	if shadowDoc(t, body)["version"] != 1.0 {
		t.Errorf("lamp-1 after refusals: %s", body)
	}
	resp, _ := srv.Do(t, "GET", "/things/lamp-2/shadow", nil, "iotdata", nil)
	if resp.StatusCode != 404 {
		t.Errorf("lamp-2 shadow exists after a refused update: %d", resp.StatusCode)
	}
}

// TestShadowThingDeleted: deleting a registered thing deletes its
// shadows; a shadow of an unregistered thing name is allowed and stays.
func TestShadowThingDeleted(t *testing.T) {
	srv := moattest.Start(t)
	srv.Do(t, "POST", "/things/lamp-1", []byte(`{}`), "iot", nil)
	for _, p := range []string{"/things/lamp-1/shadow", "/things/lamp-1/shadow?name=cfg", "/things/ghost/shadow"} {
		if resp, body := srv.Do(t, "POST", p, []byte(`{"state":{"reported":{"x":1}}}`), "iotdata", nil); resp.StatusCode != 200 {
			t.Fatalf("update %s: %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, body := srv.Do(t, "DELETE", "/things/lamp-1", nil, "iot", nil); resp.StatusCode != 200 {
		t.Fatalf("DeleteThing: %d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/things/lamp-1/shadow", "/things/lamp-1/shadow?name=cfg"} {
		if resp, _ := srv.Do(t, "GET", p, nil, "iotdata", nil); resp.StatusCode != 404 {
			t.Errorf("%s after DeleteThing: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := srv.Do(t, "GET", "/things/ghost/shadow", nil, "iotdata", nil); resp.StatusCode != 200 {
		t.Errorf("unregistered thing's shadow: %d, want 200", resp.StatusCode)
	}
}
