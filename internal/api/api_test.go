package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
)

// TestRouter_Authorize checks the router authorizes each operation's
// action on its resources before the handler: "*" without Resource, the
// Resource's ARN, every one of Resources (the handler runs only if all
// are allowed), and that a refusal is the caller's AccessDenied.
func TestRouter_Authorize(t *testing.T) {
	var asked []string
	deny := map[string]bool{"arn:g/secret": true}
	handled := map[string]int{}
	handle := func(name string) api.Handler {
		return func(context.Context, *api.Request) (any, error) {
			handled[name]++
			return nil, nil
		}
	}
	g := api.Group{
		Prefix: "iot:",
		Authenticate: func(context.Context, *http.Request, []byte) (auth.Principal, error) {
			return auth.Principal{Kind: auth.KindUser, UserName: "alice"}, nil
		},
		Authorize: func(_ context.Context, _ auth.Principal, action, resource string, _ *api.Request) error {
			asked = append(asked, action+" "+resource)
			if deny[resource] {
				return awsapi.Errorf(awsapi.AccessDenied, "User: alice is not authorized to perform: %s on resource: %s", action, resource)
			}
			return nil
		},
		Operations: []api.Operation{
			{Name: "ListThings", Method: "GET", Path: "/things", Handle: handle("ListThings")},
			{Name: "DescribeThing", Method: "GET", Path: "/things/{thingName}", Handle: handle("DescribeThing"),
				Resource: func(r *api.Request) string { return "arn:thing/" + r.PathValue("thingName") }},
			{Name: "ListPolicies", Method: "GET", Path: "/policies", Handle: handle("ListPolicies"), Resource: api.NoResource},
			{Name: "AddThingToThingGroup", Method: "PUT", Path: "/add", Handle: handle("AddThingToThingGroup"),
				Resources: func(r *api.Request) []string { return strings.Split(r.URL.Query().Get("r"), ",") }},
			{Name: "Empty", Method: "PUT", Path: "/empty", Handle: handle("Empty"),
				Resources: func(*api.Request) []string { return nil }},
		},
	}
	rt := api.NewRouter(api.Options{MaxBody: 1024}, g)
	tests := []struct {
		name, method, path string
		wantAsked          []string
		wantStatus         int
	}{
		{"no resource", "GET", "/things", []string{"iot:ListThings *"}, 200},
		{"resource from the path", "GET", "/things/lamp-1", []string{"iot:DescribeThing arn:thing/lamp-1"}, 200},
		{"explicit no resource", "GET", "/policies", []string{"iot:ListPolicies *"}, 200},
		{"several resources", "PUT", "/add?r=arn:t/1,arn:g/1", []string{"iot:AddThingToThingGroup arn:t/1", "iot:AddThingToThingGroup arn:g/1"}, 200},
		{"one of several denied", "PUT", "/add?r=arn:t/1,arn:g/secret,arn:g/2", []string{"iot:AddThingToThingGroup arn:t/1", "iot:AddThingToThingGroup arn:g/secret"}, 403},
		{"empty list is *", "PUT", "/empty", []string{"iot:Empty *"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked = nil
			before := sum(handled)
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tt.wantStatus)
			}
			if !slices.Equal(asked, tt.wantAsked) {
				t.Fatalf("authorized %q, want %q", asked, tt.wantAsked)
			}
			ran := sum(handled) > before
			if ran != (tt.wantStatus == 200) {
				t.Fatalf("handler ran: %v", ran)
			}
			if tt.wantStatus == 403 && w.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
				t.Fatalf("error type %q", w.Header().Get("X-Amzn-ErrorType"))
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
