package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// httpDef is the HttpAction shape.
type httpDef struct {
	URL             *string       `json:"url"`
	ConfirmationURL *string       `json:"confirmationUrl"`
	Headers         []keyValueDef `json:"headers"`
	Auth            *struct {
		SigV4 json.RawMessage `json:"sigv4"`
	} `json:"auth"`
	EnableBatching *bool           `json:"enableBatching"`
	BatchConfig    json.RawMessage `json:"batchConfig"` // ignored: batching is refused
}

// Limits of the HttpAction shape (botocore model: Url, HeaderList,
// HeaderKey).
const (
	maxURLLen       = 2000 // bytes of url and confirmationUrl, as written
	maxHTTPHeaders  = 100
	maxHeaderKeyLen = 256
)

// reservedHeaders are request headers that net/http sets from the request
// itself; an action may not set them.
var reservedHeaders = []string{
	"Connection", "Content-Length", "Host", "Keep-Alive", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// newHTTP builds the http action: POST the rule's result to url.
//
// AWS sends to an HTTP destination only once it is confirmed: AWS POSTs
// a token to the confirmationUrl (the url when there is none) and waits
// for ConfirmTopicRuleDestination. moat does not run that handshake: the
// operator's allow list (Deps.AllowURL) is the confirmation. The
// confirmationUrl is still accepted, as AWS defines it: a constant prefix
// of url, required when url contains substitution templates, checked
// against the allow list in New; every rendered url must begin with it
// and pass the allow list too. A templated confirmationUrl, SigV4 auth
// and batching are not supported and refused.
func newHTTP(def json.RawMessage, deps *Deps) (Action, error) {
	var d httpDef
	if err := decode(kindHTTP, def, &d); err != nil {
		return nil, err
	}
	if d.URL == nil || *d.URL == "" {
		return nil, errors.New("http: url is required")
	}
	if d.Auth != nil && len(d.Auth.SigV4) > 0 && !isNull(d.Auth.SigV4) {
		return nil, errors.New("http: auth (SigV4 signing) is not supported by moat; send credentials in headers")
	}
	if d.EnableBatching != nil && *d.EnableBatching {
		return nil, errors.New("http: enableBatching is not supported by moat")
	}
	var confirm string
	if d.ConfirmationURL != nil && *d.ConfirmationURL != "" {
		confirm = *d.ConfirmationURL
		if len(confirm) > maxURLLen {
			return nil, fmt.Errorf("http: confirmationUrl: longer than %d bytes", maxURLLen)
		}
		if strings.Contains(confirm, templateStart) {
			return nil, errors.New("http: confirmationUrl: substitution templates are not supported by moat; give the constant start of url")
		}
		if err := checkURLString(confirm, deps.AllowURL); err != nil {
			return nil, fmt.Errorf("http: confirmationUrl %q: %w", confirm, err)
		}
	}
	p, err := newPoster(kindHTTP, NameHTTP, "url", *d.URL, deps)
	if err != nil {
		return nil, err
	}
	p.confirm = confirm
	if p.url.constant() {
		if confirm != "" && !strings.HasPrefix(p.raw, confirm) {
			return nil, errors.New("http: url must begin with confirmationUrl")
		}
	} else {
		// AWS: "If url contains a substitution template, you must specify
		// confirmationUrl and url must begin with confirmationUrl."
		if confirm == "" {
			return nil, errors.New("http: confirmationUrl is required when url contains substitution templates")
		}
		if pre := p.url.prefix(); !strings.HasPrefix(pre, confirm) && !strings.HasPrefix(confirm, pre) {
			return nil, errors.New("http: url must begin with confirmationUrl")
		}
	}
	if len(d.Headers) > maxHTTPHeaders {
		return nil, fmt.Errorf("http: headers: more than %d", maxHTTPHeaders)
	}
	for i, h := range d.Headers {
		field := fmt.Sprintf("http: headers[%d]", i)
		if h.Key == nil || h.Value == nil {
			return nil, fmt.Errorf("%s: key and value are required", field)
		}
		if err := checkHeaderKey(*h.Key); err != nil {
			return nil, fmt.Errorf("%s: key %q: %w", field, *h.Key, err)
		}
		// The key is not a template (AWS: "Supports substitution
		// templates: No"); the value may be.
		v, err := parseText(deps, field+".value", *h.Value)
		if err != nil {
			return nil, err
		}
		if v.constant() {
			if err := checkHeaderValue(v.raw); err != nil {
				return nil, fmt.Errorf("%s: value: %w", field, err)
			}
		}
		p.headers = append(p.headers, httpHeader{key: http.CanonicalHeaderKey(*h.Key), value: v})
	}
	return p, nil
}

// checkHeaderKey checks an HTTP header name: a token (RFC 9110 §5.1) of
// at most 256 bytes, not one that net/http derives from the request.
func checkHeaderKey(k string) error {
	if k == "" || len(k) > maxHeaderKeyLen {
		return fmt.Errorf("must be 1 to %d bytes", maxHeaderKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if !isTokenChar(k[i]) {
			return errors.New("is not a valid header name")
		}
	}
	for _, r := range reservedHeaders {
		if strings.EqualFold(k, r) {
			return errors.New("is set by moat and cannot be given")
		}
	}
	return nil
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderValue refuses control characters in a header value (RFC 9110
// §5.5: no CR, LF or NUL; other controls but tab are refused too).
func checkHeaderValue(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}
