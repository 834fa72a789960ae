package action

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
)

// maxResponse is the size of response body that http and lambda actions
// read; AWS does not retry after a response larger than this ("The
// previous try provided a response larger than 16,384 bytes").
const maxResponse = 16 << 10

// poster POSTs the rule's result to an HTTP(S) URL: the http action, and
// the lambda action, whose function is such a URL in moat.
type poster struct {
	kind    string // JSON member: "http" or "lambda"
	aws     string // NameHTTP or NameLambda
	field   string // the URL's member, for errors: "url" or "functionArn"
	raw     string // the URL as written
	url     text
	confirm string // constant start every rendered URL must have; "" for none
	headers []httpHeader
	client  *http.Client
	allow   func(*url.URL) error
}

// httpHeader is one request header; its value may be a template.
type httpHeader struct {
	key   string // canonical
	value text
}

// newPoster compiles the URL of an http or lambda action. A constant URL
// is checked in full, against deps.AllowURL too; a templated one only
// when its constant start reaches past the host (the caller decides what
// else it needs).
func newPoster(kind, aws, field, rawURL string, deps *Deps) (*poster, error) {
	if len(rawURL) > maxURLLen {
		return nil, fmt.Errorf("%s: %s: longer than %d bytes", kind, field, maxURLLen)
	}
	t, err := parseText(deps, kind+": "+field, rawURL)
	if err != nil {
		return nil, err
	}
	if t.constant() {
		if err := checkURLString(rawURL, deps.AllowURL); err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", kind, field, rawURL, err)
		}
	} else if pre := t.prefix(); hasHost(pre) {
		if err := checkURLString(pre, deps.AllowURL); err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", kind, field, rawURL, err)
		}
	}
	return &poster{
		kind: kind, aws: aws, field: field, raw: rawURL, url: t,
		client: noRedirects(deps.HTTPClient), allow: deps.AllowURL,
	}, nil
}

// hasHost reports whether the URL start s includes its whole host: there
// is a "/", "?" or "#" after "scheme://".
func hasHost(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && strings.ContainsAny(s[i+3:], "/?#")
}

// checkURLString parses s and checks it with checkURL.
func checkURLString(s string, allow func(*url.URL) error) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	return checkURL(u, allow)
}

// checkURL checks a destination: an absolute http(s) URL with a host and
// no user information (it would show in logs and error payloads), that
// the operator's allow list accepts.
func checkURL(u *url.URL, allow func(*url.URL) error) error {
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not contain a user name or password; send credentials in a header")
	case allow == nil:
		return errors.New("is not an allowed destination: this server allows no HTTP destinations")
	}
	if err := allow(u); err != nil {
		return fmt.Errorf("is not an allowed destination: %w", err)
	}
	return nil
}

func (p *poster) name() string     { return p.aws }
func (p *poster) resource() string { return p.raw }

// Do POSTs m.Payload to the rendered URL with the rendered headers. The
// content type is application/json when the payload is JSON and
// application/octet-stream otherwise, unless a header sets it (as AWS
// does). A 2xx status is success; 429 and 5xx are retryable, as are
// timeouts and connection errors; any other status (4xx, and 3xx:
// redirects are not followed) is *Permanent, as are a rendered URL or
// header that is invalid or refused and a 429 or 5xx whose body is larger
// than 16 KiB (AWS does not retry those either).
func (p *poster) Do(ctx context.Context, m *Message) error {
	raw, err := p.url.render(p.kind+": "+p.field, m.In)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(m.Payload))
	if err != nil {
		return permanent("%s: %s %q: is not a valid URL", p.kind, p.field, raw)
	}
	// Constant URLs were checked in New; the allow list is asked again
	// for every request so that a change to it applies at once.
	if err := checkURL(req.URL, p.allow); err != nil {
		return permanent("%s: %s %q: %w", p.kind, p.field, raw, err)
	}
	if p.confirm != "" && !strings.HasPrefix(raw, p.confirm) {
		return permanent("%s: %s %q: does not begin with confirmationUrl", p.kind, p.field, raw)
	}
	ctype := "application/octet-stream"
	if json.Valid(m.Payload) {
		ctype = "application/json"
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "moat-rules-engine")
	set := map[string]bool{}
	for i, h := range p.headers {
		field := fmt.Sprintf("%s: headers[%d].value", p.kind, i)
		v, err := h.value.render(field, m.In)
		if err != nil {
			return err
		}
		if err := checkHeaderValue(v); err != nil {
			return permanent("%s: %w", field, err)
		}
		if set[h.key] {
			req.Header.Add(h.key, v)
		} else {
			req.Header.Set(h.key, v) // replaces the defaults above
			set[h.key] = true
		}
	}
	target := redact(req.URL)
	resp, err := p.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, query included
		}
		return fmt.Errorf("%s: POST %s: %w", p.kind, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	err = fmt.Errorf("%s: POST %s: HTTP %s%s", p.kind, target, resp.Status, excerpt(body))
	switch {
	case (code == http.StatusTooManyRequests || code >= 500) && len(body) <= maxResponse:
		return err
	case code >= 300 && code <= 399:
		return permanent("%w (redirects are not followed)", err)
	}
	return &Permanent{Err: err}
}

// redact returns u without user information, query and fragment, for
// error messages.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// excerpt returns the start of a response body for an error message:
// ": " and at most 200 printable characters, or "" for an empty body.
func excerpt(body []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return ": " + s
}

// noRedirects returns a copy of c (or of the default client) that returns
// redirects as responses instead of following them: a redirect would
// reach a URL that the allow list never saw.
func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = defaultHTTPClient()
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// defaultHTTPClient is the client of http and lambda actions when
// Deps.HTTPClient is nil, shared so that connections are reused: 5 s to
// connect and for the TLS handshake (TLS 1.2 or later), 10 s for the
// response headers, 30 s in all (the engine's deadline is usually
// shorter), proxies from the environment as net/http's default.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
		},
	}
})
