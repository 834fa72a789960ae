package cognitoapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/moat-iot/moat/internal/api/cognitoapi"
)

// FuzzServeHTTP sends any body to any target and checks the answer is a
// JSON object, an error in the awsJson shape with a client code, never a
// server failure or a panic.
func FuzzServeHTTP(f *testing.F) {
	h := newHarness(f)
	a := &cognitoapi.API{Service: h.svc, Auth: h.auth, Authorize: h.authorize, MaxBody: 64 << 10, Logger: nil}
	for _, s := range []struct{ target, body string }{
		{"GetId", `{"IdentityPoolId":"us-east-1:6b1f5e8e-0c6b-4a9e-9d1e-0f3c2a1b4c5d"}`},
		{"GetCredentialsForIdentity", `{"IdentityId":"us-east-1:6b1f5e8e-0c6b-4a9e-9d1e-0f3c2a1b4c5d","Logins":{"cognito-identity.amazonaws.com":"a.b.c"}}`},
		{"GetOpenIdToken", `{"IdentityId":"x:y"}`},
		{"CreateIdentityPool", `{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":true}`},
	} {
		f.Add(s.target, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", cognitoapi.TargetPrefix+target)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", target, body, w.Code, w.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %q: answer %q is not a JSON object", target, body, w.Body)
		}
		if w.Code != 200 && (m["__type"] == nil || m["__type"] != w.Header().Get("X-Amzn-Errortype")) {
			t.Fatalf("%s %q: error %d without a matching __type: %s", target, body, w.Code, w.Body)
		}
	})
}
