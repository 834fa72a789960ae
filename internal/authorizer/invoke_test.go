package authorizer

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
	"github.com/moat-iot/moat/internal/policy"
)

// TestService_Authenticate_allow checks a signed MQTT connection end to
// end: the event the function receives, and the principal built from its
// answer; a second call with the same request (a refresh) keeps the
// connection id.
func TestService_Authenticate_allow(t *testing.T) {
	s := newService(t, Options{})
	f := newFunction(t, nil)
	signed(t, s, f.srv.URL+"/auth")
	sig := authorizertest.Sign(t, "tok1")
	req := FromMQTT("alice?x-amz-customauthorizer-name=signed&x-amz-customauthorizer-signature="+url.QueryEscape(sig)+"&token=tok1",
		[]byte("pw\x00"), "client-1", "iot.example")
	before := time.Now()
	p, err := s.Authenticate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	g := p.Grant
	if p.Kind != auth.KindAuthorizer || g == nil {
		t.Fatalf("principal %+v", p)
	}
	if g.AuthorizerName != "signed" || g.PrincipalID != "device42" || !slices.Equal(g.Policies, []string{allowPolicy}) ||
		g.RefreshAfter != 600*time.Second || g.DisconnectAfter != time.Hour || g.IssuedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("grant %+v", g)
	}
	if p.String() != "authorizer/signed/device42" {
		t.Errorf("principal %s", p)
	}

	ev := f.lastEvent(t)
	if ev["token"] != "tok1" || ev["signatureVerified"] != true {
		t.Errorf("event token %v verified %v", ev["token"], ev["signatureVerified"])
	}
	if fmt.Sprint(ev["protocols"]) != "[tls mqtt]" {
		t.Errorf("protocols %v", ev["protocols"])
	}
	pd := ev["protocolData"].(map[string]any)
	if _, ok := pd["http"]; ok {
		t.Errorf("protocolData has http: %v", pd)
	}
	if pd["tls"].(map[string]any)["serverName"] != "iot.example" {
		t.Errorf("tls %v", pd["tls"])
	}
	m := pd["mqtt"].(map[string]any)
	if m["username"] != req.Username || m["password"] != base64.StdEncoding.EncodeToString([]byte("pw\x00")) || m["clientId"] != "client-1" {
		t.Errorf("mqtt %v", m)
	}
	id := ev["connectionMetadata"].(map[string]any)["id"].(string)
	if _, err := uuid.Parse(id); err != nil || id != req.ConnectionID {
		t.Errorf("connection id %q (request's %q)", id, req.ConnectionID)
	}

	if _, err := s.Authenticate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if again := f.lastEvent(t)["connectionMetadata"].(map[string]any)["id"]; again != id {
		t.Errorf("refresh changed the connection id: %v then %v", id, again)
	}
}

// TestService_Authenticate_refused checks each refusal: its error, what
// it says, and whether the function was called (never for a signature
// that does not verify).
func TestService_Authenticate_refused(t *testing.T) {
	goodSig := authorizertest.Sign(t, "tok")
	valid := func() Request {
		return Request{AuthorizerName: "signed", Headers: map[string]string{"token": "tok"}, TokenSignature: goodSig}
	}
	answer := func(v any) func(http.ResponseWriter, *http.Request) { return answerWith(v) }
	with := func(k string, v any) func(http.ResponseWriter, *http.Request) {
		a := allowAnswer()
		if v == nil {
			delete(a, k)
		} else {
			a[k] = v
		}
		return answerWith(a)
	}
	raw := func(status int, body string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}
	}
	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = allowPolicy
	}
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/` +
		strings.Repeat("x", 2100) + `"}]}`
	tests := map[string]struct {
		answer func(http.ResponseWriter, *http.Request)
		req    func(r *Request)
		want   error
		says   string
		// answered is the start of the function's answer the error
		// keeps apart from its message.
		answered string
		calls    int32
	}{
		"deny":               {answer: answer(map[string]any{"isAuthenticated": false}), want: ErrNotAuthenticated, calls: 1},
		"wrong signature":    {req: func(r *Request) { r.TokenSignature = authorizertest.Sign(t, "other") }, want: ErrBadSignature, says: "none of the 1 keys"},
		"garbage signature":  {req: func(r *Request) { r.TokenSignature = "!!!" }, want: ErrBadSignature, says: "not base64"},
		"missing signature":  {req: func(r *Request) { r.TokenSignature = "" }, want: ErrMissingSignature},
		"missing token":      {req: func(r *Request) { r.Headers = nil }, want: ErrMissingToken, says: `"token"`},
		"token of other key": {req: func(r *Request) { r.Headers = map[string]string{"other": "tok"} }, want: ErrMissingToken},
		"unknown authorizer": {req: func(r *Request) { r.AuthorizerName = "nope" }, want: ErrUnknownAuthorizer, says: "nope does not exist"},
		"invalid name":       {req: func(r *Request) { r.AuthorizerName = "a/b" }, want: ErrUnknownAuthorizer},
		"no default":         {req: func(r *Request) { r.AuthorizerName = "" }, want: ErrNoAuthorizer},
		"HTTP 500":           {answer: raw(500, "boom\n"), want: ErrFunctionFailed, says: "HTTP 500", answered: "boom", calls: 1},
		"redirect": {answer: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, want: ErrFunctionFailed, says: "HTTP 307", calls: 1},
		"not JSON":               {answer: raw(200, "hello"), want: ErrInvalidResponse, says: "not a JSON object", answered: "hello", calls: 1},
		"JSON array":             {answer: raw(200, "[true]"), want: ErrInvalidResponse, says: "a JSON array, not an object", answered: "[true]", calls: 1},
		"trailing data":          {answer: raw(200, `{"isAuthenticated":false} {}`), want: ErrInvalidResponse, says: "after its JSON object", calls: 1},
		"too large":              {answer: raw(200, `{"isAuthenticated":false}`+strings.Repeat(" ", 70<<10)), want: ErrInvalidResponse, says: "larger than 65536 bytes", calls: 1},
		"no isAuthenticated":     {answer: with("isAuthenticated", nil), want: ErrInvalidResponse, says: "isAuthenticated is required", calls: 1},
		"string isAuthenticated": {answer: with("isAuthenticated", "true"), want: ErrInvalidResponse, says: "isAuthenticated must be a JSON boolean", calls: 1},
		"no principalId":         {answer: with("principalId", nil), want: ErrInvalidResponse, says: "principalId is required", calls: 1},
		"bad principalId":        {answer: with("principalId", "dev-1"), want: ErrInvalidResponse, says: "[a-zA-Z0-9]{1,128}", calls: 1},
		"long principalId":       {answer: with("principalId", strings.Repeat("a", 129)), want: ErrInvalidResponse, says: "1 to 128", calls: 1},
		"11 policies":            {answer: with("policyDocuments", eleven), want: ErrInvalidResponse, says: "11 documents; at most 10", calls: 1},
		"unparseable policy":     {answer: with("policyDocuments", []any{`{"Statement": 5}`}), want: ErrInvalidResponse, says: "policyDocuments[0] is not a valid IoT policy", calls: 1},
		"policy not JSON":        {answer: with("policyDocuments", []any{allowPolicy, "{"}), want: ErrInvalidResponse, says: "policyDocuments[1]", calls: 1},
		"policy a number":        {answer: with("policyDocuments", []any{5}), want: ErrInvalidResponse, says: "JSON string or object", calls: 1},
		"policy too long":        {answer: with("policyDocuments", []any{long}), want: ErrInvalidResponse, says: "policyDocuments[0]", calls: 1},
		"policies not a list":    {answer: with("policyDocuments", allowPolicy), want: ErrInvalidResponse, says: "policyDocuments must be a JSON array", calls: 1},
		"refresh too short":      {answer: with("refreshAfterInSeconds", 299), want: ErrInvalidResponse, says: "refreshAfterInSeconds must be from 300 to 86400, got 299", calls: 1},
		"refresh too long":       {answer: with("refreshAfterInSeconds", 86401), want: ErrInvalidResponse, says: "refreshAfterInSeconds", calls: 1},
		"disconnect too short":   {answer: with("disconnectAfterInSeconds", 0), want: ErrInvalidResponse, says: "disconnectAfterInSeconds must be from 300", calls: 1},
		"disconnect too long":    {answer: with("disconnectAfterInSeconds", 86401), want: ErrInvalidResponse, says: "got 86401", calls: 1},
		"fractional seconds":     {answer: with("refreshAfterInSeconds", 300.5), want: ErrInvalidResponse, says: "whole number", calls: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := newService(t, Options{})
			f := newFunction(t, tc.answer)
			signed(t, s, f.srv.URL)
			req := valid()
			if tc.req != nil {
				tc.req(&req)
			}
			p, err := s.Authenticate(context.Background(), req)
			wantErr(t, err, tc.want)
			if p.Kind != 0 || p.Grant != nil {
				t.Errorf("refused, yet principal %+v", p)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if got := FunctionAnswer(err); got != tc.answered || tc.answered != "" && strings.Contains(err.Error(), tc.answered) {
				t.Errorf("function answer %q (error %q), want %q apart from the message", got, err, tc.answered)
			}
			if n := f.calls.Load(); n != tc.calls {
				t.Errorf("function called %d times, want %d", n, tc.calls)
			}
		})
	}
}

// TestService_Authenticate_signingDisabled checks an authorizer without
// signing, reached as the default: no signature is needed and the event
// says signatureVerified false; the policy may be an object.
func TestService_Authenticate_signingDisabled(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	a := allowAnswer()
	a["policyDocuments"] = []any{map[string]any{"Version": "2012-10-17", "Statement": map[string]any{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}}}
	delete(a, "refreshAfterInSeconds")
	delete(a, "disconnectAfterInSeconds")
	f := newFunction(t, answerWith(a))
	unsigned(t, s, f.srv.URL)

	req := FromMQTT("bob", []byte("secret"), "", "")
	_, err := s.Authenticate(ctx, req)
	wantErr(t, err, ErrNoAuthorizer)
	if _, err := s.SetDefault(ctx, "open"); err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Grant.AuthorizerName != "open" || p.Grant.RefreshAfter != 24*time.Hour || p.Grant.DisconnectAfter != 24*time.Hour {
		t.Fatalf("grant %+v", p.Grant)
	}
	d, err := policy.Parse([]byte(p.Grant.Policies[0]))
	if err != nil || len(d.Statements) != 1 {
		t.Fatalf("policy %q: %v", p.Grant.Policies[0], err)
	}
	ev := f.lastEvent(t)
	if ev["signatureVerified"] != false {
		t.Errorf("signatureVerified %v", ev["signatureVerified"])
	}
	if _, ok := ev["token"]; ok {
		t.Errorf("event has a token: %v", ev["token"])
	}
	m := ev["protocolData"].(map[string]any)["mqtt"].(map[string]any)
	if _, ok := m["clientId"]; ok {
		t.Errorf("event has a clientId the client did not send: %v", m)
	}
	// A token under the token key name is passed even without signing.
	if _, err := s.Authenticate(ctx, FromMQTT("bob?token=abc", nil, "c", "")); err != nil {
		t.Fatal(err)
	}
	if tok := f.lastEvent(t)["token"]; tok != "abc" {
		t.Errorf("token %v", tok)
	}
}

// TestService_Authenticate_inactive checks that an INACTIVE authorizer
// refuses without calling its function, while TestInvoke still calls it.
func TestService_Authenticate_inactive(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	f := newFunction(t, answerWith(map[string]any{"isAuthenticated": false, "principalId": "nobody"}))
	unsigned(t, s, f.srv.URL)
	if _, err := s.Update(ctx, "open", Update{Status: Inactive}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Authenticate(ctx, Request{AuthorizerName: "open"})
	wantErr(t, err, ErrInactive)
	if f.calls.Load() != 0 {
		t.Fatal("the function of an INACTIVE authorizer was called")
	}
	resp, err := s.TestInvoke(ctx, "open", Request{Token: "x"})
	if err != nil || resp.IsAuthenticated || resp.PrincipalID != "nobody" {
		t.Fatalf("TestInvoke: %+v %v", resp, err)
	}
	_, err = s.TestInvoke(ctx, "nope", Request{})
	wantErr(t, err, ErrUnknownAuthorizer)
}

// TestService_Authenticate_timeout checks that a slow function is a
// refusal after Options.Timeout.
func TestService_Authenticate_timeout(t *testing.T) {
	s := newService(t, Options{Timeout: 200 * time.Millisecond})
	f := newFunction(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		answerJSON(w, allowAnswer())
	})
	unsigned(t, s, f.srv.URL)
	start := time.Now()
	_, err := s.Authenticate(context.Background(), Request{AuthorizerName: "open"})
	wantErr(t, err, ErrFunctionFailed)
	if !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Errorf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refused after %v", d)
	}
}

// TestService_Authenticate_busy checks the bound on calls in flight: one
// beyond is refused at once, and calls succeed again once it frees up.
func TestService_Authenticate_busy(t *testing.T) {
	s := newService(t, Options{MaxInFlight: 2})
	release := make(chan struct{})
	f := newFunction(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		answerJSON(w, allowAnswer())
	})
	unsigned(t, s, f.srv.URL)
	req := Request{AuthorizerName: "open"}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			_, err := s.Authenticate(context.Background(), req)
			errs <- err
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two calls did not reach the function")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := s.Authenticate(context.Background(), req)
	wantErr(t, err, ErrBusy)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v", d)
	}
	if f.calls.Load() != 2 {
		t.Errorf("the refused call reached the function")
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Authenticate(context.Background(), req); err != nil {
		t.Fatalf("after the calls finished: %v", err)
	}
}

// TestService_Authenticate_unsupportedFunction checks that a Lambda ARN,
// and a URL the allow list refuses since the authorizer was stored, are
// refused with a message that says why.
func TestService_Authenticate_unsupportedFunction(t *testing.T) {
	ctx := context.Background()
	allowed := true
	s := newService(t, Options{AllowURL: func(*url.URL) error {
		if !allowed {
			return errors.New("removed from the allow list")
		}
		return nil
	}})
	if _, err := s.Create(ctx, "lambda", Config{FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:auth", SigningDisabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Authenticate(ctx, Request{AuthorizerName: "lambda"})
	wantErr(t, err, ErrUnsupportedFunction)
	if !strings.Contains(err.Error(), "moat cannot run") {
		t.Errorf("error %v", err)
	}
	f := newFunction(t, nil)
	unsigned(t, s, f.srv.URL)
	allowed = false
	_, err = s.Authenticate(ctx, Request{AuthorizerName: "open"})
	wantErr(t, err, ErrUnsupportedFunction)
	if !strings.Contains(err.Error(), "removed from the allow list") || f.calls.Load() != 0 {
		t.Errorf("error %v, calls %d", err, f.calls.Load())
	}
}

// TestService_Authenticate_https checks TLS verification of an https://
// function: trusted through Options.CAFile, refused without it.
func TestService_Authenticate_https(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, allowAnswer()) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))

	trusting := newService(t, Options{CAFile: ca})
	unsigned(t, trusting, srv.URL)
	if _, err := trusting.Authenticate(context.Background(), Request{AuthorizerName: "open"}); err != nil {
		t.Fatal(err)
	}
	strict := newService(t, Options{})
	unsigned(t, strict, srv.URL)
	_, err := strict.Authenticate(context.Background(), Request{AuthorizerName: "open"})
	wantErr(t, err, ErrFunctionFailed)
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v", err)
	}
}

// TestService_Authenticate_unreachable checks a function nobody serves.
func TestService_Authenticate_unreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := newService(t, Options{})
	unsigned(t, s, url)
	_, err := s.Authenticate(context.Background(), Request{AuthorizerName: "open"})
	wantErr(t, err, ErrFunctionFailed)
	if !strings.Contains(err.Error(), "could not be reached") {
		t.Errorf("error %v", err)
	}
}

// TestService_Authenticate_canceled checks that a caller that gives up
// (the client went away) ends the call with a refusal that says so.
func TestService_Authenticate_canceled(t *testing.T) {
	s := newService(t, Options{})
	arrived := make(chan struct{})
	f := newFunction(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	unsigned(t, s, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := s.Authenticate(ctx, Request{AuthorizerName: "open"})
	wantErr(t, err, ErrFunctionFailed)
	if !strings.Contains(err.Error(), "ended before the function answered") {
		t.Errorf("error %v", err)
	}
}

// TestService_Authenticate_storeFailure checks that moat's own failure is
// an error but not a denial, so that callers can tell them apart.
func TestService_Authenticate_storeFailure(t *testing.T) {
	st := newStore(t)
	s, err := New(st, testARNs, Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = s.Authenticate(context.Background(), Request{AuthorizerName: "open"})
	if err == nil || errors.Is(err, ErrDenied) {
		t.Fatalf("error %v, want a failure that is not a denial", err)
	}
}
