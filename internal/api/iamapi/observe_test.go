package iamapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/moat-iot/moat/internal/api/iamapi"
)

// TestAPI_LogsAndMetrics: each failure is logged once with its request
// id and code, successes are not logged at Info, and every request is
// counted by service, operation and code.
func TestAPI_LogsAndMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	if _, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if lines := e.logLines(); len(lines) != 0 {
		t.Fatalf("a success was logged: %v", lines)
	}
	_, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("alice")})
	var re *smithyhttp.ResponseError
	if !errorsAs(err, &re) {
		t.Fatalf("err = %v", err)
	}
	id := re.Response.Header.Get("X-Amzn-Requestid")
	if id == "" {
		t.Fatal("no request id header")
	}
	lines := e.logLines()
	if len(lines) != 1 {
		t.Fatalf("log lines = %v", lines)
	}
	for _, want := range []string{"query api request failed", "service=iam", "op=CreateUser", "code=EntityAlreadyExists", "status=409", "request_id=" + id, "principal=\"user/admin"} {
		if !strings.Contains(lines[0], want) {
			t.Fatalf("log line %q lacks %q", lines[0], want)
		}
	}
	e.post("iam", form("Action", "Nope"), nil)
	for _, tc := range []struct {
		service, op, code string
		want              float64
	}{
		{"iam", "CreateUser", "200", 1},
		{"iam", "CreateUser", "EntityAlreadyExists", 1},
		{"", "unknown", "InvalidAction", 1},
	} {
		got := e.requests(tc.service, tc.op, tc.code)
		if got != tc.want {
			t.Errorf("requests{%s,%s,%s} = %v, want %v", tc.service, tc.op, tc.code, got, tc.want)
		}
	}
}

// requests reads moat_query_api_requests_total for one label set.
func (e *env) requests(service, op, code string) float64 {
	e.t.Helper()
	families, err := e.registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "moat_query_api_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == service && labels["operation"] == op && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestIsQueryRequest recognises what the lead routes here.
func TestIsQueryRequest(t *testing.T) {
	tests := []struct {
		method, contentType string
		want                bool
	}{
		{"POST", "application/x-www-form-urlencoded", true},
		{"POST", "application/x-www-form-urlencoded; charset=utf-8", true},
		{"POST", "application/json", false},
		{"POST", "application/x-amz-json-1.1", false},
		{"POST", "", false},
		{"GET", "application/x-www-form-urlencoded", false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, "/", nil)
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		if got := iamapi.IsQueryRequest(r); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.method, tc.contentType, got, tc.want)
		}
	}
}
