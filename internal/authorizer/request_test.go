package authorizer

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
)

// TestParseUsername checks the split of an MQTT username into its user
// part and query parameters.
func TestParseUsername(t *testing.T) {
	tests := []struct {
		in, user string
		params   url.Values
	}{
		{"alice", "alice", url.Values{}},
		{"", "", url.Values{}},
		{"alice?", "alice", url.Values{}},
		{"?x-amz-customauthorizer-name=a", "", url.Values{NameParam: {"a"}}},
		{"alice?x-amz-customauthorizer-name=my%2Dauth&token=t%3D1&&k", "alice",
			url.Values{NameParam: {"my-auth"}, "token": {"t=1"}, "k": {""}}},
		// '+' unescaped is a space; a bad escape is kept as sent.
		{"u?x-amz-customauthorizer-signature=ab+c/d==&bad=%zz", "u", url.Values{SignatureParam: {"ab c/d=="}, "bad": {"%zz"}}},
		// Only the first '?' splits; ';' does not separate.
		{"a?b=c?d;e=f", "a", url.Values{"b": {"c?d;e=f"}}},
		{"a?k=1&k=2", "a", url.Values{"k": {"1", "2"}}},
	}
	for _, tc := range tests {
		user, params := ParseUsername(tc.in)
		if user != tc.user || !reflect.DeepEqual(params, tc.params) {
			t.Errorf("ParseUsername(%q) = %q, %v; want %q, %v", tc.in, user, params, tc.user, tc.params)
		}
	}
}

// TestFromMQTT checks the request of an MQTT CONNECT.
func TestFromMQTT(t *testing.T) {
	r := FromMQTT("dev?x-amz-customauthorizer-name=auth1&x-amz-customauthorizer-signature=c2ln%2B&tk=v", []byte{1, 2}, "cid", "host.example")
	if r.AuthorizerName != "auth1" || r.TokenSignature != "c2ln+" || r.Token != "" || r.ClientID != "cid" ||
		r.ServerName != "host.example" || string(r.Password) != "\x01\x02" || fmt.Sprint(r.Protocols) != "[tls mqtt]" {
		t.Fatalf("request %+v", r)
	}
	if _, err := uuid.Parse(r.ConnectionID); err != nil {
		t.Errorf("connection id %q", r.ConnectionID)
	}
	if tok, ok := r.param("tk"); !ok || tok != "v" {
		t.Errorf("token %q %v", tok, ok)
	}
	if FromMQTT("dev", nil, "", "").ConnectionID == r.ConnectionID {
		t.Error("two requests share a connection id")
	}
}

// TestFromHTTP checks the request of an HTTP request: headers win over
// query parameters; the query string keeps its '?'.
func TestFromHTTP(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://iot.example/mqtt?x-amz-customauthorizer-name=fromquery&tk=q&x-amz-customauthorizer-signature=abc%3D", nil)
	r.Header.Set("X-Amz-CustomAuthorizer-Name", "fromheader")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	r.TLS = &tls.ConnectionState{ServerName: "iot.example"}
	req, named := FromHTTP(r)
	if !named || req.AuthorizerName != "fromheader" || req.TokenSignature != "abc=" || req.ServerName != "iot.example" {
		t.Fatalf("request %+v named %v", req, named)
	}
	if req.Headers["x-multi"] != "a,b" || req.Headers["host"] != "iot.example" || req.QueryString != "?"+r.URL.RawQuery {
		t.Errorf("headers %v query %q", req.Headers, req.QueryString)
	}
	if fmt.Sprint(req.Protocols) != "[tls http]" {
		t.Errorf("protocols %v", req.Protocols)
	}
	if tok, _ := req.param("tk"); tok != "q" {
		t.Errorf("token %q", tok)
	}
	r.Header.Set("Tk", "h")
	req, _ = FromHTTP(r)
	if tok, _ := req.param("tk"); tok != "h" {
		t.Errorf("header token %q", tok)
	}

	plain := httptest.NewRequest(http.MethodPost, "http://iot.example/topics/a", nil)
	req, named = FromHTTP(plain)
	if named || req.AuthorizerName != "" || req.QueryString != "" || fmt.Sprint(req.Protocols) != "[http]" {
		t.Errorf("plain request %+v named %v", req, named)
	}
}

// TestService_AuthenticateHTTP checks when custom authentication applies
// to an HTTP request, and that headers and query parameters both work.
func TestService_AuthenticateHTTP(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	f := newFunction(t, nil)
	signed(t, s, f.srv.URL)

	plain := httptest.NewRequest(http.MethodPost, "/topics/a", nil)
	if p, applies, err := s.AuthenticateHTTP(ctx, plain); applies || err != nil || p.Kind != 0 {
		t.Fatalf("no parameters, no default: %+v %v %v", p, applies, err)
	}

	sig := authorizertest.Sign(t, "tok")
	byHeader := httptest.NewRequest(http.MethodPost, "/topics/a", strings.NewReader("{}"))
	byHeader.Header.Set(NameParam, "signed")
	byHeader.Header.Set(SignatureParam, sig)
	byHeader.Header.Set("token", "tok")
	p, applies, err := s.AuthenticateHTTP(ctx, byHeader)
	if !applies || err != nil || p.Grant == nil || p.Grant.AuthorizerName != "signed" {
		t.Fatalf("by header: %+v %v %v", p, applies, err)
	}
	ev := f.lastEvent(t)
	if ev["token"] != "tok" || fmt.Sprint(ev["protocols"]) != "[http]" {
		t.Errorf("event %v", ev)
	}
	h := ev["protocolData"].(map[string]any)["http"].(map[string]any)
	if h["headers"].(map[string]any)["token"] != "tok" || h["queryString"] != "" {
		t.Errorf("http %v", h)
	}

	byQuery := httptest.NewRequest(http.MethodPost, "/topics/a?qos=1&"+url.Values{NameParam: {"signed"}, SignatureParam: {sig}, "token": {"tok"}}.Encode(), nil)
	if _, applies, err := s.AuthenticateHTTP(ctx, byQuery); !applies || err != nil {
		t.Fatalf("by query: %v %v", applies, err)
	}

	badSig := httptest.NewRequest(http.MethodPost, "/topics/a?"+url.Values{NameParam: {"signed"}, SignatureParam: {authorizertest.Sign(t, "x")}, "token": {"tok"}}.Encode(), nil)
	calls := f.calls.Load()
	_, applies, err = s.AuthenticateHTTP(ctx, badSig)
	if !applies {
		t.Fatal("a request naming an authorizer is not custom authentication")
	}
	wantErr(t, err, ErrBadSignature)
	if f.calls.Load() != calls {
		t.Error("the function was called for a bad signature")
	}

	// With a default authorizer, a request without parameters goes to it.
	if _, err := s.SetDefault(ctx, "signed"); err != nil {
		t.Fatal(err)
	}
	tokenOnly := httptest.NewRequest(http.MethodPost, "/topics/a", nil)
	tokenOnly.Header.Set("token", "tok")
	_, applies, err = s.AuthenticateHTTP(ctx, tokenOnly)
	if !applies {
		t.Fatal("the default authorizer does not apply")
	}
	wantErr(t, err, ErrMissingSignature)
}
