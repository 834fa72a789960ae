package action

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// request is what a test endpoint received.
type request struct {
	method, path, query string
	header              http.Header
	body                string
}

// endpoint is an HTTP(S) server that records requests and answers each
// with the status (and body) its handler decides.
type endpoint struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newEndpoint(t *testing.T, tls bool, answer func(w http.ResponseWriter, r *http.Request)) *endpoint {
	t.Helper()
	e := &endpoint{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.reqs = append(e.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		e.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	})
	if tls {
		e.Server = httptest.NewTLSServer(h)
	} else {
		e.Server = httptest.NewServer(h)
	}
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.reqs...)
}

// httpDeps returns test Deps whose HTTP client trusts e's certificate.
func httpDeps(t *testing.T, e *endpoint) Deps {
	deps := testDeps(t)
	deps.HTTPClient = e.Client()
	return deps
}

// TestHTTP_Do checks the request an http action makes: POST to the
// rendered URL, the payload as body, the content type AWS would choose,
// and the rendered headers.
func TestHTTP_Do(t *testing.T) {
	e := newEndpoint(t, true, nil)
	deps := httpDeps(t, e)
	a := mustNew(t, `{"http":{"url":"`+e.URL+`/in/${topic(2)}?from=${clientid()}","confirmationUrl":"`+e.URL+`/in/",`+
		`"headers":[{"key":"x-api-key","value":"secret"},{"key":"X-Room","value":"${room}"},{"key":"x-room","value":"second"}]}}`, deps)
	in := input("lamps/lamp-1", "c-1", `{"room":"kitchen"}`)
	if err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{"on":true}`), In: in}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	reqs := e.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/in/lamp-1" || r.query != "from=c-1" || r.body != `{"on":true}` {
		t.Errorf("got %s %s?%s body %q; want POST /in/lamp-1?from=c-1 body {\"on\":true}", r.method, r.path, r.query, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if got := r.header.Get("X-Api-Key"); got != "secret" {
		t.Errorf("X-Api-Key %q, want secret", got)
	}
	if got := r.header.Values("X-Room"); len(got) != 2 || got[0] != "kitchen" || got[1] != "second" {
		t.Errorf("X-Room %q, want [kitchen second]", got)
	}
}

// TestHTTP_Do_contentType checks the default content type for a binary
// payload and a header that overrides it.
func TestHTTP_Do_contentType(t *testing.T) {
	e := newEndpoint(t, false, nil)
	deps := httpDeps(t, e)
	binary := mustNew(t, `{"http":{"url":"`+e.URL+`/bin"}}`, deps)
	custom := mustNew(t, `{"http":{"url":"`+e.URL+`/custom","headers":[{"key":"content-type","value":"application/cbor"}]}}`, deps)
	ctx := testCtx(t, 5*time.Second)
	if err := binary.Do(ctx, &Message{Payload: []byte{0xa1, 0x01}}); err != nil {
		t.Fatal(err)
	}
	if err := custom.Do(ctx, &Message{Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	reqs := e.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got := reqs[0].header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("binary payload: Content-Type %q, want application/octet-stream", got)
	}
	if got := reqs[1].header.Values("Content-Type"); len(got) != 1 || got[0] != "application/cbor" {
		t.Errorf("overridden: Content-Type %q, want [application/cbor]", got)
	}
}

// TestHTTP_Do_status checks how each response status is classified:
// 2xx success, 429 and 5xx retryable, anything else permanent.
func TestHTTP_Do_status(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		wantErr   bool
		permanent bool
	}{
		{status: 200}, {status: 201}, {status: 204},
		{status: 400, wantErr: true, permanent: true},
		{status: 403, wantErr: true, permanent: true},
		{status: 404, wantErr: true, permanent: true},
		{status: 413, wantErr: true, permanent: true},
		{status: 429, wantErr: true},
		{status: 500, wantErr: true},
		{status: 503, wantErr: true},
		// AWS does not retry after a response larger than 16 KiB.
		{status: 503, body: strings.Repeat("x", maxResponse+1), wantErr: true, permanent: true},
		// A redirect is not followed: it would reach a URL nobody allowed.
		{status: 302, wantErr: true, permanent: true},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			e := newEndpoint(t, true, func(w http.ResponseWriter, r *http.Request) {
				if c.status == 302 {
					http.Redirect(w, r, "/elsewhere", c.status)
					return
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			a := mustNew(t, `{"http":{"url":"`+e.URL+`/hook"}}`, httpDeps(t, e))
			err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`)})
			if (err != nil) != c.wantErr || isPermanent(err) != c.permanent {
				t.Fatalf("Do error %v (permanent %v); want error %v, permanent %v", err, isPermanent(err), c.wantErr, c.permanent)
			}
			if n := len(e.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (redirects not followed)", n)
			}
			if err != nil && !strings.Contains(err.Error(), http.StatusText(c.status)) {
				t.Errorf("error %q does not give the status", err)
			}
		})
	}
}

// TestHTTP_Do_errorText checks that an error names the status and the
// start of the body, and leaves out the URL's query, which may carry
// rendered data or keys.
func TestHTTP_Do_errorText(t *testing.T) {
	e := newEndpoint(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "missing field\n\"temp\"")
	})
	a := mustNew(t, `{"http":{"url":"`+e.URL+`/hook?key=s3cr3t"}}`, httpDeps(t, e))
	err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`)})
	want := "http: POST " + e.URL + "/hook: HTTP 400 Bad Request: missing field \"temp\""
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestHTTP_Do_timeout checks that Do gives up when ctx ends, with a
// retryable error.
func TestHTTP_Do_timeout(t *testing.T) {
	release := make(chan struct{})
	e := newEndpoint(t, true, func(w http.ResponseWriter, r *http.Request) {
		// Hold the answer until the test ends, whatever happens to the
		// request's context on this side (an answer after it would make
		// Do succeed).
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
	})
	defer close(release)
	a := mustNew(t, `{"http":{"url":"`+e.URL+`/slow"}}`, httpDeps(t, e))
	start := time.Now()
	err := a.Do(testCtx(t, 200*time.Millisecond), &Message{Payload: []byte(`{}`)})
	if !errors.Is(err, context.DeadlineExceeded) || isPermanent(err) {
		t.Fatalf("Do error %v, want a retryable context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Do took %v after a 200ms deadline", d)
	}
}

// TestHTTP_Do_connectionRefused checks that an endpoint that is down is a
// retryable failure.
func TestHTTP_Do_connectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := mustNew(t, `{"http":{"url":"http://`+addr+`/hook"}}`, testDeps(t))
	err = a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`)})
	if err == nil || isPermanent(err) {
		t.Fatalf("Do error %v, want a retryable error", err)
	}
}

// TestHTTP_Do_refusedRenderedURL checks that a URL that renders outside
// the allow list or outside confirmationUrl is refused before any request.
func TestHTTP_Do_refusedRenderedURL(t *testing.T) {
	e := newEndpoint(t, true, nil)
	deps := httpDeps(t, e)
	cases := map[string]struct{ def, in string }{
		"refused by the allow list": {`{"http":{"url":"` + e.URL + `/${dir}/x","confirmationUrl":"` + e.URL + `/"}}`, `{"dir":"forbidden"}`},
		"outside confirmationUrl":   {`{"http":{"url":"` + e.URL + `/${dir}/x","confirmationUrl":"` + e.URL + `/hooks"}}`, `{"dir":"other"}`},
		"invalid URL":               {`{"http":{"url":"` + e.URL + `/${dir}","confirmationUrl":"` + e.URL + `/"}}`, `{"dir":"%zz"}`},
		"header renders a newline":  {`{"http":{"url":"` + e.URL + `/ok","headers":[{"key":"x-a","value":"${v}"}]}}`, `{"v":"a\nb"}`},
		"template fails":            {`{"http":{"url":"` + e.URL + `/ok","headers":[{"key":"x-a","value":"${fail()}"}]}}`, `{}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := mustNew(t, c.def, deps)
			err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`), In: input("t", "c", c.in)})
			if !isPermanent(err) {
				t.Errorf("Do error %v, want a permanent error", err)
			}
		})
	}
	if n := len(e.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// TestHTTP_Do_redirectClientOverride checks that redirects stay
// unfollowed even when the engine's client follows them.
func TestHTTP_Do_redirectClientOverride(t *testing.T) {
	e := newEndpoint(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hook" {
			http.Redirect(w, r, "/forbidden/target", http.StatusTemporaryRedirect)
		}
	})
	deps := httpDeps(t, e)
	deps.HTTPClient = &http.Client{} // follows redirects by default
	a := mustNew(t, `{"http":{"url":"`+e.URL+`/hook"}}`, deps)
	if err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`)}); !isPermanent(err) {
		t.Errorf("Do error %v, want a permanent error", err)
	}
	if reqs := e.requests(); len(reqs) != 1 {
		t.Errorf("%d requests, want 1: the redirect was followed", len(reqs))
	}
	if deps.HTTPClient.CheckRedirect != nil {
		t.Error("the engine's client was changed")
	}
}

// TestHTTP_Do_allowListChange checks that the allow list is asked at
// every request, so that removing a destination applies to running
// rules with a constant URL too.
func TestHTTP_Do_allowListChange(t *testing.T) {
	e := newEndpoint(t, false, nil)
	deps := httpDeps(t, e)
	var closed atomic.Bool
	deps.AllowURL = func(u *url.URL) error {
		if closed.Load() {
			return errors.New("removed from the allow list")
		}
		return allowTestHosts(u)
	}
	a := mustNew(t, `{"http":{"url":"`+e.URL+`/hook"}}`, deps)
	ctx := testCtx(t, 5*time.Second)
	if err := a.Do(ctx, &Message{Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("Do while allowed: %v", err)
	}
	closed.Store(true)
	if err := a.Do(ctx, &Message{Payload: []byte(`{}`)}); !isPermanent(err) || !strings.Contains(err.Error(), "removed from the allow list") {
		t.Errorf("Do after removal: %v, want a permanent error from the allow list", err)
	}
	if n := len(e.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
