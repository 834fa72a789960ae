package authorizer

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Parameters of custom authentication, as headers, query parameters or
// parameters of the MQTT username's query string (reference §7.2).
const (
	NameParam      = "x-amz-customauthorizer-name"
	SignatureParam = "x-amz-customauthorizer-signature"
)

// Protocols of the request event.
const (
	ProtocolTLS  = "tls"
	ProtocolHTTP = "http"
	ProtocolMQTT = "mqtt"
)

// Request is what a client presented to a custom authorizer: the data of
// the request event and where to look for the token. Keep it for the life
// of a connection: re-authentication after Grant.RefreshAfter passes the
// same Request (and so the same ConnectionID) to Authenticate again.
type Request struct {
	// AuthorizerName is the authorizer the client named; "" means the
	// default authorizer.
	AuthorizerName string
	// Token is the token; "" means: look it up under the authorizer's
	// tokenKeyName in Headers, then QueryString, then the query string of
	// Username.
	Token string
	// TokenSignature is the base64 signature of Token; "" means: look up
	// x-amz-customauthorizer-signature in the same places.
	TokenSignature string
	// Protocols are the event's protocols (ProtocolTLS, ProtocolHTTP,
	// ProtocolMQTT); nil means those whose fields below are set.
	Protocols []string
	// HTTP: header names in lower case; QueryString with its leading "?"
	// (as the event carries it) or "".
	Headers     map[string]string
	QueryString string
	// MQTT CONNECT: the username as sent (with its query string), the
	// password (sent base64-encoded in the event), the client id.
	Username string
	Password []byte
	ClientID string
	// ServerName is the TLS SNI the client sent.
	ServerName string
	// ConnectionID is the event's connectionMetadata.id; "" means a new
	// UUID for each call.
	ConnectionID string
}

// FromMQTT is the request of an MQTT CONNECT (over TLS, ALPN "mqtt", or
// WebSocket without credentials on the upgrade). The username may carry a
// query string after a '?' with x-amz-customauthorizer-name,
// x-amz-customauthorizer-signature and the token under the authorizer's
// tokenKeyName; the name and signature are read from it now, the token
// when the authorizer is known. The request has a new ConnectionID.
func FromMQTT(username string, password []byte, clientID, serverName string) Request {
	_, q := ParseUsername(username)
	return Request{
		AuthorizerName: first(q[NameParam]),
		TokenSignature: first(q[SignatureParam]),
		Protocols:      []string{ProtocolTLS, ProtocolMQTT},
		Username:       username,
		Password:       password,
		ClientID:       clientID,
		ServerName:     serverName,
		ConnectionID:   uuid.NewString(),
	}
}

// FromHTTP is the request of an HTTP request (the WebSocket upgrade, an
// HTTPS publish): every header (names in lower case, repeated values
// joined by ","), the query string, the SNI, and the authorizer name and
// signature from a header or else a query parameter. It reports whether
// the request carries custom-authentication parameters (a name or a
// signature); whether one that carries none goes to the default
// authorizer is the caller's (or AuthenticateHTTP's) decision. The
// request has a new ConnectionID.
func FromHTTP(r *http.Request) (Request, bool) {
	req := Request{
		Protocols:    []string{ProtocolHTTP},
		Headers:      make(map[string]string, len(r.Header)+1),
		ConnectionID: uuid.NewString(),
	}
	if r.TLS != nil {
		req.Protocols = []string{ProtocolTLS, ProtocolHTTP}
		req.ServerName = r.TLS.ServerName
	}
	for name, values := range r.Header {
		req.Headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	if r.Host != "" {
		req.Headers["host"] = r.Host
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		req.QueryString = "?" + r.URL.RawQuery
	}
	name, hasName := req.param(NameParam)
	sig, hasSig := req.param(SignatureParam)
	req.AuthorizerName, req.TokenSignature = name, sig
	return req, hasName || hasSig
}

// param looks a custom-authentication parameter up: a header (names match
// case-insensitively), else a parameter of QueryString, else a parameter
// of the username's query string.
func (r *Request) param(key string) (string, bool) {
	if v, ok := r.Headers[strings.ToLower(key)]; ok {
		return v, true
	}
	for name, v := range r.Headers {
		if strings.EqualFold(name, key) {
			return v, true
		}
	}
	if r.QueryString != "" {
		if vs, ok := parseQuery(strings.TrimPrefix(r.QueryString, "?"))[key]; ok {
			return first(vs), true
		}
	}
	if r.Username != "" {
		if _, q := ParseUsername(r.Username); q[key] != nil {
			return first(q[key]), true
		}
	}
	return "", false
}

// protocols is r.Protocols, or the protocols whose fields are set.
func (r *Request) protocols() []string {
	if r.Protocols != nil {
		return r.Protocols
	}
	var ps []string
	if r.ServerName != "" {
		ps = append(ps, ProtocolTLS)
	}
	if r.Headers != nil || r.QueryString != "" {
		ps = append(ps, ProtocolHTTP)
	}
	if r.Username != "" || r.Password != nil || r.ClientID != "" {
		ps = append(ps, ProtocolMQTT)
	}
	return ps
}

// ParseUsername splits an MQTT CONNECT username at its first '?' into the
// user part and the parameters of the query string after it (reference
// §7.2: "<user>?x-amz-customauthorizer-name=...&..."). A username without
// '?' has no parameters. Parameters are separated by '&' and
// percent-decoded ('+' is a space); a part that does not decode is taken
// as it is, so a signature sent without URL-encoding still arrives.
func ParseUsername(username string) (user string, params url.Values) {
	user, query, ok := strings.Cut(username, "?")
	if !ok {
		return username, url.Values{}
	}
	return user, parseQuery(query)
}

// parseQuery is a lenient url.ParseQuery: only '&' separates, empty parts
// are skipped, an undecodable key or value is kept as it is.
func parseQuery(query string) url.Values {
	q := url.Values{}
	for part := range strings.SplitSeq(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		q[unescape(k)] = append(q[unescape(k)], unescape(v))
	}
	return q
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

type connectionIDKey struct{}

// WithConnectionID returns ctx carrying a connection id for
// AuthenticateHTTP to send as connectionMetadata.id instead of a new one:
// a transport that authenticates the same connection again (a WebSocket
// whose grant is refreshed) keeps its id, as MQTT connections do.
func WithConnectionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, connectionIDKey{}, id)
}

// ConnectionID returns the id WithConnectionID put in ctx, or "".
func ConnectionID(ctx context.Context) string {
	id, _ := ctx.Value(connectionIDKey{}).(string)
	return id
}
