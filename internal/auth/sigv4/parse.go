package sigv4

import (
	"encoding/hex"
	"net/url"
	"strings"
)

// Algorithm is the only signing algorithm accepted (SigV4a is not).
const Algorithm = "AWS4-HMAC-SHA256"

// scopeTerminator ends every SigV4 credential scope.
const scopeTerminator = "aws4_request"

// Presigned query parameter names. AWS matches them case-sensitively.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
)

// credential is the parsed Credential=AKID/DATE/REGION/SERVICE/aws4_request.
type credential struct {
	accessKeyID, date, region, service, terminator string
}

// scope is the credential scope as it appears in the string to sign.
func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + c.terminator
}

// signature is the signature material taken from the Authorization header
// or from the presigned query, before anything is checked against the
// request.
type signature struct {
	cred          credential
	signedHeaders []string // lowercase names, in the order the client listed them
	sig           []byte   // 32 bytes, decoded from hex
}

// parseAuthorization parses an Authorization header value of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// The three components may come in any order, separated by commas with
// optional spaces; each must appear exactly once and nothing else may
// appear. Failures are IncompleteSignatureException errors whose messages
// never echo the header.
func parseAuthorization(h string) (signature, *Error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return signature{}, malformed("Unsupported Authorization type: only %s is accepted.", Algorithm)
	}
	var credStr, shStr, sigStr string
	var seen [3]bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return signature{}, malformed("Authorization header contains a component that is not a valid key=value pair (missing equal-sign).")
		}
		var i int
		switch k {
		case "Credential":
			i, credStr = 0, val
		case "SignedHeaders":
			i, shStr = 1, val
		case "Signature":
			i, sigStr = 2, val
		default:
			return signature{}, malformed("Authorization header contains an unknown component; expected Credential, SignedHeaders and Signature.")
		}
		if seen[i] {
			return signature{}, malformed("Authorization header contains the %s component more than once.", k)
		}
		seen[i] = true
	}
	var missing []string
	for i, name := range [3]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			missing = append(missing, "Authorization header requires '"+name+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return signature{}, malformed("%s", strings.Join(missing, " "))
	}
	return parseParts(credStr, shStr, sigStr)
}

// parsePresigned reads the presigned-URL parameters from the decoded query.
// It returns the X-Amz-Date and raw X-Amz-Expires values too ("" when
// absent). Every parameter must appear at most once.
func parsePresigned(q []queryPair) (sig signature, amzDate, expires string, err *Error) {
	get := func(name string, required bool) (string, *Error) {
		var val string
		n := 0
		for _, p := range q {
			if p.key == name {
				val = p.value
				n++
			}
		}
		switch {
		case n > 1:
			return "", malformed("Query parameter '%s' must appear only once.", name)
		case n == 0 && required:
			return "", malformed("Query-string authentication requires the '%s' parameter.", name)
		}
		return val, nil
	}
	var vals [6]string
	for i, name := range [6]string{qAlgorithm, qCredential, qSignedHeaders, qSignature, qDate, qExpires} {
		if vals[i], err = get(name, name != qExpires); err != nil {
			return signature{}, "", "", err
		}
	}
	if vals[0] != Algorithm {
		return signature{}, "", "", malformed("X-Amz-Algorithm only supports %s.", Algorithm)
	}
	sig, err = parseParts(vals[1], vals[2], vals[3])
	return sig, vals[4], vals[5], err
}

// parseParts parses the three signature components shared by both forms.
func parseParts(credStr, shStr, sigStr string) (signature, *Error) {
	cred, err := parseCredential(credStr)
	if err != nil {
		return signature{}, err
	}
	names, err := parseSignedHeaders(shStr)
	if err != nil {
		return signature{}, err
	}
	if len(sigStr) != 2*32 {
		return signature{}, malformed("Signature must be 64 hexadecimal characters.")
	}
	raw, herr := hex.DecodeString(sigStr)
	if herr != nil {
		return signature{}, malformed("Signature must be 64 hexadecimal characters.")
	}
	return signature{cred: cred, signedHeaders: names, sig: raw}, nil
}

// parseCredential splits AKID/DATE/REGION/SERVICE/TERMINATOR. Only the
// shape is checked here; the values are checked against the request and the
// Verifier later (scope errors are InvalidSignatureException, as in AWS).
func parseCredential(s string) (credential, *Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return credential{}, malformed("Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.")
	}
	for _, p := range parts {
		if p == "" {
			return credential{}, malformed("Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.")
		}
	}
	return credential{parts[0], parts[1], parts[2], parts[3], parts[4]}, nil
}

// parseSignedHeaders splits "host;x-amz-date" into names. Each name must be
// a non-empty lowercase HTTP token and appear once, and "host" must be
// among them: an unsigned Host would let a signature be replayed against
// another endpoint.
func parseSignedHeaders(s string) ([]string, *Error) {
	names := strings.Split(s, ";")
	hasHost := false
	for i, n := range names {
		if n == "" || !isLowerToken(n) {
			return nil, malformed("SignedHeaders must be a ';'-separated list of lowercase header names.")
		}
		for _, prev := range names[:i] {
			if prev == n {
				return nil, malformed("SignedHeaders lists a header more than once.")
			}
		}
		hasHost = hasHost || n == "host"
	}
	if !hasHost {
		return nil, malformed("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return names, nil
}

// isLowerToken reports whether s is an RFC 9110 token without uppercase letters.
func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// queryPair is one decoded key=value from the query string, in wire order.
type queryPair struct{ key, value string }

// parseQuery decodes a raw query string the way the Go SDK's signer reads
// it (url.ParseQuery rules: pairs split on '&', empty pairs skipped, '+'
// means space), but keeps wire order and duplicates and fails on a bad
// escape or a ';' instead of silently dropping the pair: a pair the
// verifier cannot see must not reach the handler unsigned.
func parseQuery(raw string) ([]queryPair, bool) {
	var out []queryPair
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		if strings.IndexByte(piece, ';') >= 0 {
			return nil, false
		}
		k, v, _ := strings.Cut(piece, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, queryPair{k, v})
	}
	return out, true
}
