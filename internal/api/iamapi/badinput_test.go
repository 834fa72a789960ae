package iamapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/moat-iot/moat/internal/store"
)

// objectCount counts the IAM objects and access keys in the store.
func (e *env) objectCount() int {
	e.t.Helper()
	n := 0
	err := e.st.View(context.Background(), func(tx store.Tx) error {
		for _, kind := range []string{"iam/user", "iam/role", "iam/policy", "iam/attachment"} {
			c, err := tx.CountObjects(kind, "")
			if err != nil {
				return err
			}
			n += c
		}
		keys, _, err := tx.ListAccessKeys("", store.Page{Limit: 1000})
		n += len(keys)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAPI_BadInput: malformed requests get AWS's awsQuery error codes in
// the ErrorResponse shape and change nothing.
func TestAPI_BadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.admin().GetUser(ctx, &iamsdk.GetUserInput{}) // records the admin user
	before := e.objectCount()
	long := strings.Repeat("a", 65)
	tests := []struct {
		name, service, body string
		hdr                 map[string]string
		status              int
		code, message       string
	}{
		{"garbage", "iam", "\x00\x01%%%", nil, 400, "MalformedQueryString", "percent-encoding"},
		{"not a form", "iam", `{"Action":"CreateUser"}`, map[string]string{"Content-Type": "application/json"}, 400, "MalformedQueryString", "x-www-form-urlencoded"},
		{"no action", "iam", form("Version", "2010-05-08", "UserName", "x"), nil, 400, "MissingAction", "Action"},
		{"unknown action", "iam", form("Action", "CreateGroup", "Version", "2010-05-08"), nil, 400, "InvalidAction", "CreateGroup"},
		{"wrong version", "iam", form("Action", "CreateUser", "Version", "2011-06-15", "UserName", "x"), nil, 400, "InvalidAction", "2011-06-15"},
		{"duplicate member", "iam", "Action=CreateUser&Version=2010-05-08&UserName=a&UserName=b", nil, 400, "MalformedQueryString", "more than once"},
		{"missing member", "iam", form("Action", "CreateUser", "Version", "2010-05-08"), nil, 400, "ValidationError", "at &#39;UserName&#39;"},
		{"missing nested member", "iam", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "x", "Tags.member.1.Key", "k"), nil, 400, "ValidationError", "Tags.member.1.Value"},
		{"bad list index", "iam", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "x", "Tags.member.0.Key", "k", "Tags.member.0.Value", "v"), nil, 400, "ValidationError", "list index"},
		{"bad integer", "iam", form("Action", "ListUsers", "Version", "2010-05-08", "MaxItems", "many"), nil, 400, "ValidationError", "at &#39;MaxItems&#39;"},
		{"zero MaxItems", "iam", form("Action", "ListUsers", "Version", "2010-05-08", "MaxItems", "0"), nil, 400, "ValidationError", "maxItems"},
		{"name too long", "iam", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", long), nil, 400, "ValidationError", "length less than or equal to 64"},
		{"name bad chars", "iam", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "a b"), nil, 400, "ValidationError", "regular expression"},
		{"malformed policy JSON", "iam", form("Action", "CreatePolicy", "Version", "2010-05-08", "PolicyName", "p", "PolicyDocument", `{"Statement":[`), nil, 400, "MalformedPolicyDocument", "invalid JSON"},
		{"policy not Latin-1", "iam", form("Action", "CreatePolicy", "Version", "2010-05-08", "PolicyName", "p", "PolicyDocument", `{"Statement":{"Sid":"☃","Effect":"Allow","Action":"iot:*","Resource":"*"}}`), nil, 400, "ValidationError", "policyDocument"},
		{"trust not a trust policy", "iam", form("Action", "CreateRole", "Version", "2010-05-08", "RoleName", "r", "AssumeRolePolicyDocument", allowIoT), nil, 400, "MalformedPolicyDocument", "trust policy"},
		{"session name short", "sts", form("Action", "AssumeRole", "Version", "2011-06-15", "RoleArn", "arn:aws:iam::000000000000:role/r", "RoleSessionName", "s"), nil, 400, "ValidationError", "roleSessionName"},
		{"iam action signed for sts", "sts", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "x"), nil, 403, "SignatureDoesNotMatch", ""},
		{"sts action signed for iam", "iam", form("Action", "GetCallerIdentity", "Version", "2011-06-15"), nil, 403, "SignatureDoesNotMatch", ""},
		{"too large", "iam", form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "x", "Pad", strings.Repeat("p", 70<<10)), nil, 413, "RequestEntityTooLarge", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.post(tc.service, tc.body, tc.hdr)
			body := string(b)
			if resp.StatusCode != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") || !strings.Contains(body, tc.message) {
				t.Fatalf("got %d %s\nwant %d %s mentioning %q", resp.StatusCode, body, tc.status, tc.code, tc.message)
			}
			if !strings.HasPrefix(body, "<ErrorResponse") || !strings.Contains(body, "<RequestId>"+resp.Header.Get("X-Amzn-Requestid")+"</RequestId>") {
				t.Fatalf("not the ErrorResponse shape with the request id: %s", body)
			}
		})
	}
	if after := e.objectCount(); after != before {
		t.Fatalf("bad input changed the store: %d objects, was %d", after, before)
	}
}

// TestAPI_BadAuthentication refuses unsigned and mis-signed requests
// before reading their operation.
func TestAPI_BadAuthentication(t *testing.T) {
	e := newEnv(t)
	body := form("Action", "CreateUser", "Version", "2010-05-08", "UserName", "x")
	resp, b := e.postAs("", "", "iam", body, nil)
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, b)
	}
	resp, b = e.postAs(e.adminKey, "not-the-secret", "iam", body, nil)
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("wrong secret: %d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/?"+body, nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if _, err := e.admin().GetUser(context.Background(), &iamsdk.GetUserInput{UserName: aws.String("x")}); err == nil {
		t.Fatal("a refused request created a user")
	}
}
