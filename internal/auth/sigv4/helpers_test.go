package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// keyStore is a fake credential store: access key id -> Credential.
type keyStore map[string]Credential

// Lookup returns a Lookup that wraps ErrUnknownKey for unknown ids.
func (k keyStore) Lookup() Lookup {
	return func(ctx context.Context, id, _ string) (Credential, error) {
		c, ok := k[id]
		if !ok {
			return Credential{}, &lookupErr{id}
		}
		return c, nil
	}
}

type lookupErr struct{ id string }

func (e *lookupErr) Error() string { return "store: no key " + e.id }
func (e *lookupErr) Unwrap() error { return ErrUnknownKey }

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

// toServer writes a client request to the wire and reads it back the way
// net/http's server does, so RequestURI, Host and the header map look
// exactly as a handler would see them. It returns the request and its body.
func toServer(t testing.TB, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read request: %v\n%s", err, buf.String())
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return sr, body
}

// parseRawRequest parses a test-suite .req/.sreq file. It is more lenient
// than net/http (the suite has a literal space in one request target, and
// "Name:value" lines without a space), and builds the request a server would
// see: RequestURI is the raw target, Host is taken out of the header map.
func parseRawRequest(t testing.TB, raw string) (*http.Request, []byte) {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	first := lines[0]
	sp1, sp2 := strings.IndexByte(first, ' '), strings.LastIndexByte(first, ' ')
	if sp1 < 0 || sp2 <= sp1 {
		t.Fatalf("bad request line %q", first)
	}
	target := first[sp1+1 : sp2]
	p, q, _ := strings.Cut(target, "?")
	r := &http.Request{
		Method:     first[:sp1],
		RequestURI: target,
		URL:        &url.URL{Path: p, RawPath: p, RawQuery: q},
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad header line %q", l)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			r.Host = strings.TrimSpace(v)
			continue
		}
		r.Header.Add(k, strings.TrimLeft(v, " "))
	}
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	return r, []byte(body)
}

// wantCode fails unless err is an *Error with the given code and kind.
func wantCode(t testing.TB, err error, code string, kind error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Message, code)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("errors.Is(%v, %v) = false", err, kind)
	}
}
