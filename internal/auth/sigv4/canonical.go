package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// emptySHA256 is hex(sha256("")), the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// unsignedPayload is the payload hash a client uses to leave the body unsigned.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// rawPath returns the request path exactly as the client sent it on the
// wire (still percent-encoded). On the server that is the path part of
// r.RequestURI; r.URL.Path is decoded and r.URL.EscapedPath() may re-encode
// bytes the client sent raw, so neither is used when RequestURI is set.
// For client-side requests (RequestURI empty, e.g. in tests) it falls back
// to what net/http would send: URL.Opaque, then URL.EscapedPath().
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" || p == "*" {
		p = r.URL.Opaque
		if p == "" {
			p = r.URL.EscapedPath()
		}
	}
	p, _, _ = strings.Cut(p, "?")
	if !strings.HasPrefix(p, "/") { // absolute-form "scheme://authority/path" or opaque "//host/path"
		if _, after, ok := strings.Cut(p, "//"); ok {
			p = after
		}
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = p[i:]
		} else {
			p = ""
		}
	}
	return p
}

// escapePath URI-encodes every byte except the RFC 3986 unreserved set and
// '/', with uppercase hex. Applied to the raw wire path it yields the
// canonical URI of non-S3 services: the path as sent, encoded once more
// (so "%2F" becomes "%252F" and "$" becomes "%24"). This is what the Go
// SDK (httpbinding.EscapePath over URL.EscapedPath) and botocore
// (quote(path, safe='/~')) both compute.
func escapePath(p string) string {
	if p == "" {
		return "/"
	}
	return escape(p, true)
}

// escape percent-encodes (uppercase hex) every byte outside the RFC 3986
// unreserved set, keeping '/' as is when keepSlash is set.
func escape(s string, keepSlash bool) string {
	keep := func(c byte) bool { return unreserved(c) || keepSlash && c == '/' }
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments normalises a path the way botocore does before
// encoding it (utils.remove_dot_segments): "." and empty segments are
// dropped, ".." pops one segment, a leading and a trailing '/' are kept.
// The AWS test suite's normalize-path cases expect the same.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// canonicalQuery encodes each key and value (RFC 3986, space as %20),
// sorts by encoded key then encoded value, and joins k=v with '&'. Pairs
// whose key is skip (before encoding) are left out.
func canonicalQuery(q []queryPair, skip ...string) string {
	enc := make([]queryPair, 0, len(q))
outer:
	for _, p := range q {
		for _, s := range skip {
			if p.key == s {
				continue outer
			}
		}
		enc = append(enc, queryPair{escapeQuery(p.key), escapeQuery(p.value)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// escapeQuery encodes a query key or value: every byte outside the
// unreserved set, '/' included, so a space is "%20", never "+".
func escapeQuery(s string) string { return escape(s, false) }

// headerStyle selects how header values are trimmed. The Go SDK trims
// leading/trailing whitespace and collapses runs of spaces only; botocore
// collapses runs of any whitespace (tabs included) into one space. They
// differ only for values containing tabs or other non-space whitespace.
type headerStyle int

const (
	styleSDK headerStyle = iota
	styleBotocore
)

// canonicalHeaders builds "name:value\n" for each signed header, in the
// order given. Multiple values of one header are joined with ','. It
// returns false if a signed header is absent from the request.
func canonicalHeaders(r *http.Request, host string, names []string, style headerStyle) (string, bool) {
	var b strings.Builder
	for _, name := range names {
		var vals []string
		switch name {
		case "host":
			vals = []string{host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 && r.ContentLength > 0 {
				// net/http moves Content-Length into r.ContentLength on requests it builds.
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(name)
			if len(vals) == 0 {
				vals = r.Header[name] // non-canonical key set directly in the map
			}
		}
		if len(vals) == 0 {
			return "", false
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimValue(v, style))
		}
		b.WriteByte('\n')
	}
	return b.String(), true
}

func trimValue(v string, style headerStyle) string {
	if style == styleBotocore {
		return strings.Join(strings.Fields(v), " ")
	}
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// canonicalRequest joins the six parts of the SigV4 canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

// stringToSign is the SigV4 string to sign for a canonical request.
func stringToSign(amzDate, scope, creq string) []byte {
	h := sha256.Sum256([]byte(creq))
	b := make([]byte, 0, len(Algorithm)+len(amzDate)+len(scope)+3+64)
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, h[:])
}

// signingKey derives the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret string, c credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	return hmacSHA256(k, c.terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// hmacBytes is hmacSHA256 for a byte-slice message.
func hmacBytes(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
