package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSkew is the clock skew AWS tolerates between X-Amz-Date and
// the server clock, in either direction.
const DefaultMaxSkew = 15 * time.Minute

// MaxPresignExpires is the largest X-Amz-Expires AWS accepts (7 days).
const MaxPresignExpires = 604800 * time.Second

// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// Credential is what the caller's access key id resolves to.
type Credential struct {
	// Secret is the secret access key. It must not be empty.
	Secret string
	// SessionToken is the token that must accompany temporary credentials
	// in X-Amz-Security-Token; "" for long-term keys.
	SessionToken string
}

// Lookup resolves an access key id, given the session token the request
// carries ("" if none; temporary credentials may carry their claims in
// it). It returns ErrUnknownKey (wrapped is fine) when the key is unknown
// or disabled, ErrInvalidToken when the token does not belong to the key,
// ErrExpiredToken when temporary credentials have expired; any other error
// is reported to the client as InternalFailure (500).
type Lookup func(ctx context.Context, accessKeyID, sessionToken string) (Credential, error)

// Verifier checks AWS Signature Version 4 on incoming requests. It keeps no
// state between calls and is safe for concurrent use once configured.
type Verifier struct {
	// Lookup resolves access key ids to secrets. Required.
	Lookup Lookup
	// Services lists the signing names accepted in the credential scope,
	// e.g. "iot", "iotdata", "iotdevicegateway". Required; an empty list
	// makes every Verify fail with InternalFailure.
	Services []string
	// Region, if non-empty, is the only region accepted in the credential
	// scope. Empty accepts any region.
	Region string
	// MaxSkew is how far X-Amz-Date may be from the server clock, in the
	// past or the future. 0 means DefaultMaxSkew (15 minutes).
	MaxSkew time.Duration
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// Result describes a request whose signature verified.
type Result struct {
	AccessKeyID  string
	Region       string // from the credential scope
	Service      string // signing name from the credential scope
	SessionToken string // "" for long-term keys
	SignedAt     time.Time
	// ExpiresAt is SignedAt + X-Amz-Expires for presigned URLs that carry
	// X-Amz-Expires, zero otherwise.
	ExpiresAt time.Time
	// Presigned is true for query-string (presigned URL) signatures.
	Presigned bool
	// SignedHeaders are the lowercase header names the signature covers.
	SignedHeaders []string
	// UnsignedPayload is true when the client sent
	// X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, or signed a presigned URL
	// with it; the body is then not covered by the signature.
	UnsignedPayload bool
}

// Verify checks r's signature, in the Authorization header form or the
// presigned query form (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Signature, optional X-Amz-Expires and
// X-Amz-Security-Token). body is the complete request body the caller has
// already read (and size-limited); nil and empty are the same.
//
// Checks run in this order, and the first failure is returned as an *Error:
// presence of authentication, syntax, credential scope (terminator,
// service, region, date), clock skew / expiry, key lookup, session token,
// payload hash, signature. Verify does not read r.Body.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Result, error) {
	if v.Lookup == nil || len(v.Services) == 0 {
		e := newError(ErrInternal, msgInternal)
		e.cause = errors.New("sigv4: Verifier needs Lookup and Services")
		return Result{}, e
	}
	authz := r.Header.Values("Authorization")
	rawQuery := r.URL.RawQuery
	presigned := strings.Contains(rawQuery, "X-Amz-")
	query, ok := parseQuery(rawQuery)
	if ok {
		presigned = hasKey(query, qAlgorithm) || hasKey(query, qCredential) || hasKey(query, qSignature)
	}
	switch {
	case len(authz) == 0 && !presigned:
		return Result{}, newError(ErrMissingAuth, msgMissingAuth)
	case len(authz) > 0 && presigned:
		return Result{}, malformed("Only one authentication mechanism may be used: the Authorization header or query-string parameters, not both.")
	case len(authz) > 1:
		return Result{}, malformed("Only one Authorization header may be sent.")
	case !ok:
		return Result{}, malformed("The query string is not validly URL-encoded.")
	}

	var (
		sig              signature
		amzDate, expires string
		err              *Error
	)
	if presigned {
		sig, amzDate, expires, err = parsePresigned(query)
	} else {
		sig, err = parseAuthorization(authz[0])
		if err == nil {
			amzDate, err = single(r.Header.Values("X-Amz-Date"), "X-Amz-Date",
				"Authorization header requires existence of a 'X-Amz-Date' header.")
		}
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{
		AccessKeyID:   sig.cred.accessKeyID,
		Region:        sig.cred.region,
		Service:       sig.cred.service,
		Presigned:     presigned,
		SignedHeaders: sig.signedHeaders,
	}
	if res.SignedAt, err = parseAmzDate(amzDate); err != nil {
		return Result{}, err
	}
	if err = v.checkScope(sig.cred, amzDate); err != nil {
		return Result{}, err
	}
	if res.ExpiresAt, err = v.checkTime(res.SignedAt, expires); err != nil {
		return Result{}, err
	}

	token, err := requestToken(r, query, presigned)
	if err != nil {
		return Result{}, err
	}
	cred, lerr := v.Lookup(ctx, sig.cred.accessKeyID, token)
	switch {
	case errors.Is(lerr, ErrUnknownKey):
		e := newError(ErrUnknownKey, msgInvalidToken)
		e.cause = lerr
		return Result{}, e
	case errors.Is(lerr, ErrInvalidToken):
		e := newError(ErrInvalidToken, msgInvalidToken)
		e.cause = lerr
		return Result{}, e
	case errors.Is(lerr, ErrExpiredToken):
		e := newError(ErrExpiredToken, msgExpiredToken)
		e.cause = lerr
		return Result{}, e
	case lerr != nil:
		e := newError(ErrInternal, msgInternal)
		e.cause = fmt.Errorf("sigv4 lookup: %w", lerr)
		return Result{}, e
	case cred.Secret == "":
		e := newError(ErrInternal, msgInternal)
		e.cause = errors.New("sigv4: lookup returned an empty secret")
		return Result{}, e
	}
	// A temporary key needs its token; a long-term key must not carry one.
	if (cred.SessionToken == "") != (token == "") ||
		subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(token)) != 1 {
		return Result{}, newError(ErrInvalidToken, msgInvalidToken)
	}
	res.SessionToken = token

	payloads, unsigned, err := payloadHashes(r, body, presigned)
	if err != nil {
		return Result{}, err
	}
	res.UnsignedPayload = unsigned

	key := signingKey(cred.Secret, sig.cred)
	scope := sig.cred.scope()
	for _, creq := range canonicalCandidates(r, query, sig.signedHeaders, payloads, presigned) {
		if hmac.Equal(hmacBytes(key, stringToSign(amzDate, scope, creq)), sig.sig) {
			res.UnsignedPayload = strings.HasSuffix(creq, "\n"+unsignedPayload)
			return res, nil
		}
	}
	return Result{}, errMismatch()
}

func hasKey(q []queryPair, k string) bool {
	return slices.ContainsFunc(q, func(p queryPair) bool { return p.key == k })
}

// single returns the only value of a header that must not repeat.
func single(vals []string, name, missingMsg string) (string, *Error) {
	switch len(vals) {
	case 0:
		return "", malformed("%s", missingMsg)
	case 1:
		return vals[0], nil
	}
	return "", malformed("The %s header must appear only once.", name)
}

func parseAmzDate(s string) (time.Time, *Error) {
	t, err := time.Parse(amzDateFormat, s)
	if len(s) != len(amzDateFormat) || err != nil {
		return time.Time{}, malformed("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
	}
	return t, nil
}

// checkScope checks the credential scope against the Verifier and the date.
// Messages follow AWS's wording.
func (v *Verifier) checkScope(c credential, amzDate string) *Error {
	switch {
	case c.terminator != scopeTerminator:
		return newError(ErrScope, fmt.Sprintf("Credential should be scoped with a valid terminator: '%s'.", scopeTerminator))
	case !slices.Contains(v.Services, c.service):
		return newError(ErrScope, fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.Services[0]))
	case v.Region != "" && c.region != v.Region:
		return newError(ErrScope, "Credential should be scoped to a valid region.")
	case c.date != amzDate[:8]:
		return newError(ErrScope, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			safeEcho(c.date), amzDate[:8], amzDate))
	}
	return nil
}

// safeEcho bounds and sanitises a client-supplied scope piece for a message.
func safeEcho(s string) string {
	if len(s) > 16 {
		s = s[:16]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '\'' {
			return '?'
		}
		return r
	}, s)
}

// checkTime enforces MaxSkew around signedAt, or X-Amz-Expires for
// presigned URLs that carry it. It returns the expiry (zero if none).
func (v *Verifier) checkTime(signedAt time.Time, expires string) (time.Time, *Error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if signedAt.Sub(t) > skew {
		return time.Time{}, newError(ErrExpired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			signedAt.Format(amzDateFormat), t.Add(skew).Format(amzDateFormat), t.Format(amzDateFormat), humanDuration(skew)))
	}
	validity, expiresAt := skew, time.Time{}
	if expires != "" {
		n, err := strconv.ParseInt(expires, 10, 64)
		if err != nil || n < 1 || time.Duration(n)*time.Second > MaxPresignExpires {
			return time.Time{}, malformed("X-Amz-Expires must be a whole number of seconds from 1 to 604800.")
		}
		validity = time.Duration(n) * time.Second
		expiresAt = signedAt.Add(validity)
	}
	if t.Sub(signedAt) > validity {
		return time.Time{}, newError(ErrExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			signedAt.Format(amzDateFormat), t.Add(-validity).Format(amzDateFormat), t.Format(amzDateFormat), humanDuration(validity)))
	}
	return expiresAt, nil
}

// humanDuration formats d as AWS does in skew messages ("15 min.").
func humanDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec."
}

// requestToken returns the session token the request carries: the
// X-Amz-Security-Token query parameter for presigned URLs (falling back to
// the header), the header otherwise.
func requestToken(r *http.Request, q []queryPair, presigned bool) (string, *Error) {
	var vals []string
	if presigned {
		for _, p := range q {
			if p.key == qSecurityToken {
				vals = append(vals, p.value)
			}
		}
	}
	if len(vals) == 0 {
		vals = r.Header.Values("X-Amz-Security-Token")
	}
	if len(vals) > 1 {
		return "", malformed("X-Amz-Security-Token must appear only once.")
	}
	if len(vals) == 0 {
		return "", nil
	}
	return vals[0], nil
}

// payloadHashes returns the payload hash candidates for the canonical
// request. With X-Amz-Content-Sha256 the client's value is used: either
// UNSIGNED-PAYLOAD (the body is then not authenticated and unsigned is
// true) or a SHA-256 that must equal the received body's. Without it the
// hash of the body is used; a presigned request with an empty body may
// also have been signed with UNSIGNED-PAYLOAD (the S3 presigner default),
// which is harmless to accept since there is no body to protect.
func payloadHashes(r *http.Request, body []byte, presigned bool) (hashes []string, unsigned bool, err *Error) {
	vals := r.Header.Values("X-Amz-Content-Sha256")
	if len(vals) > 1 {
		return nil, false, malformed("The X-Amz-Content-Sha256 header must appear only once.")
	}
	sum := sha256.Sum256(body)
	if len(vals) == 1 {
		h := vals[0]
		if h == unsignedPayload {
			return []string{h}, true, nil
		}
		claimed, derr := hex.DecodeString(h)
		if derr != nil || len(claimed) != sha256.Size {
			return nil, false, malformed("x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		if subtle.ConstantTimeCompare(claimed, sum[:]) != 1 {
			return nil, false, newError(ErrPayloadMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		return []string{h}, false, nil
	}
	hashes = []string{hex.EncodeToString(sum[:])}
	if presigned && len(body) == 0 {
		hashes = append(hashes, unsignedPayload)
	}
	return hashes, false, nil
}

// canonicalCandidates returns the canonical requests a legitimate client
// may have signed for r. There is one in the common case; more arise only
// where real clients are known to differ:
//   - URI: the raw path encoded once more (Go SDK, and botocore when the path
//     has no dot or empty segments), or its dot-segment-normalised form
//     (botocore, AWS test suite);
//   - query (presigned only): with X-Amz-Security-Token, or without it for
//     clients that append the token after signing (AWS IoT device SDKs);
//   - header values containing tabs: Go SDK versus botocore trimming;
//   - payload: see payloadHashes.
//
// Every candidate still binds the method, the host, every signed header and
// every other query parameter, so accepting any of them admits no request
// the key holder did not sign, up to path normalisation.
func canonicalCandidates(r *http.Request, q []queryPair, names []string, payloads []string, presigned bool) []string {
	p := rawPath(r)
	uris := []string{escapePath(p)}
	if n := escapePath(removeDotSegments(p)); n != uris[0] {
		uris = append(uris, n)
	}
	queries := []string{canonicalQuery(q)}
	if presigned {
		queries[0] = canonicalQuery(q, qSignature)
		if hasKey(q, qSecurityToken) {
			queries = append(queries, canonicalQuery(q, qSignature, qSecurityToken))
		}
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	var headers []string
	for _, style := range []headerStyle{styleSDK, styleBotocore} {
		h, ok := canonicalHeaders(r, host, names, style)
		if !ok {
			return nil // a signed header is missing: nothing can match
		}
		if !slices.Contains(headers, h) {
			headers = append(headers, h)
		}
	}
	signed := strings.Join(names, ";")
	out := make([]string, 0, len(uris)*len(queries)*len(headers)*len(payloads))
	for _, u := range uris {
		for _, qs := range queries {
			for _, h := range headers {
				for _, ph := range payloads {
					out = append(out, canonicalRequest(r.Method, u, qs, h, signed, ph))
				}
			}
		}
	}
	return out
}
