package cognitoapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// raw sends a request without the SDK and returns the status, the error
// code header and the decoded body.
func (h *harness) raw(t *testing.T, method, target, body string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatal("no request id")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", b, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), m
}

// TestAPI_BadInput checks that malformed requests get the awsJson error
// shape with a clear code and change nothing.
func TestAPI_BadInput(t *testing.T) {
	h := newHarness(t)
	const getID = "AWSCognitoIdentityService.GetId"
	tests := map[string]struct {
		method, target, body string
		status               int
		code, msg            string
	}{
		// the body is cut short
		"truncated": {"POST", getID, `{"IdentityPoolId":`, 400, "SerializationException", "truncated"},
		// not JSON at all
		"garbage": {"POST", getID, `<xml/>`, 400, "SerializationException", "not valid JSON"},
		// a member of the wrong type is named
		"wrong type": {"POST", getID, `{"IdentityPoolId": 5}`, 400, "SerializationException", "IdentityPoolId"},
		// Logins must be an object of strings
		"logins type": {"POST", getID, `{"IdentityPoolId": "us-east-1:x", "Logins": ["a"]}`, 400, "SerializationException", "Logins"},
		// a JSON array is not an object
		"array": {"POST", getID, `[]`, 400, "SerializationException", "object"},
		// two documents
		"trailing data": {"POST", getID, `{} {}`, 400, "SerializationException", "after the JSON object"},
		// the required pool id
		"missing member": {"POST", getID, `{}`, 400, "InvalidParameterException", "IdentityPoolId is required"},
		// an operation that does not exist
		"unknown target": {"POST", "AWSCognitoIdentityService.MakeMeAdmin", `{}`, 400, "UnknownOperationException", "MakeMeAdmin"},
		// another service's target
		"foreign target": {"POST", "DynamoDB_20120810.ListTables", `{}`, 400, "UnknownOperationException", ""},
		// no target at all
		"no target": {"POST", "", `{}`, 400, "UnknownOperationException", ""},
		// only POST
		"GET": {"GET", getID, ``, 400, "UnknownOperationException", "GET"},
		// bodies are size-limited
		"too large": {"POST", getID, `{"Logins":{"a":"` + strings.Repeat("x", 2<<20) + `"}}`, 413, "InvalidParameterException", "maximum size"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			status, code, body := h.raw(t, tt.method, tt.target, tt.body)
			if status != tt.status || code != tt.code || body["__type"] != tt.code {
				t.Fatalf("answer = %d %s %v, want %d %s", status, code, body, tt.status, tt.code)
			}
			if msg, _ := body["message"].(string); !strings.Contains(msg, tt.msg) {
				t.Fatalf("message = %q, want it to contain %q", msg, tt.msg)
			}
		})
	}
	// A signed operation sent without a signature, with a body that
	// would create a pool.
	status, code, _ := h.raw(t, "POST", "AWSCognitoIdentityService.CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true}`)
	if status != 400 || code != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned CreateIdentityPool = %d %s", status, code)
	}
	out, err := h.admin.ListIdentityPools(context.Background(), &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(out.IdentityPools) != 0 {
		t.Fatalf("pools after bad requests: %+v, %v", out, err)
	}
}
