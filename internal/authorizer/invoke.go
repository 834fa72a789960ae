package authorizer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// Limits of the response document (reference §7.4).
const (
	maxPolicies      = 10
	minSeconds       = 300
	maxSeconds       = 86400
	defaultSeconds   = 86400 // disconnectAfterInSeconds when absent, as AWS; refreshAfterInSeconds too
	maxPrincipalID   = 128
	maxSignatureLen  = 2560 // TokenSignature
	userAgent        = "moat-custom-authorizer/1"
	contentTypeJSON  = "application/json"
	maxLoggedBodyLen = 200
)

// Response is a function's checked answer (TestInvokeAuthorizer's output).
type Response struct {
	IsAuthenticated bool
	PrincipalID     string
	// PolicyDocuments are the IoT policy documents as JSON text (an
	// object in the answer is kept as its JSON text).
	PolicyDocuments          []string
	RefreshAfterInSeconds    int
	DisconnectAfterInSeconds int
}

// Authenticate runs custom authentication for a request (see the package
// documentation for the steps) and returns a KindAuthorizer principal
// whose Grant carries the function's policies. Every refusal wraps
// ErrDenied; unexpected failures of the function are logged at warn.
func (s *Service) Authenticate(ctx context.Context, req Request) (auth.Principal, error) {
	a, err := s.lookup(ctx, req.AuthorizerName)
	if err != nil {
		return auth.Principal{}, err
	}
	if a.Status != Active {
		return auth.Principal{}, refusal(ErrInactive, "authorizer %s is INACTIVE", a.Name)
	}
	resp, err := s.invoke(ctx, a, req)
	if err != nil {
		return auth.Principal{}, err
	}
	if !resp.IsAuthenticated {
		return auth.Principal{}, refusal(ErrNotAuthenticated, "authorizer %s", a.Name)
	}
	return auth.Principal{Kind: auth.KindAuthorizer, Grant: &auth.Grant{
		AuthorizerName:  a.Name,
		PrincipalID:     resp.PrincipalID,
		Policies:        resp.PolicyDocuments,
		RefreshAfter:    time.Duration(resp.RefreshAfterInSeconds) * time.Second,
		DisconnectAfter: time.Duration(resp.DisconnectAfterInSeconds) * time.Second,
		IssuedAt:        s.now().UTC(),
	}}, nil
}

// AuthenticateHTTP runs custom authentication for an HTTP request (the
// WebSocket upgrade, an HTTPS publish) that carries no other credentials.
// applies is false (and err nil) when custom authentication does not
// apply: the request names no authorizer and carries no signature, and no
// default authorizer is set; the caller then refuses as it refuses a
// request without credentials. Otherwise the result is Authenticate's.
func (s *Service) AuthenticateHTTP(ctx context.Context, r *http.Request) (p auth.Principal, applies bool, err error) {
	req, named := FromHTTP(r)
	if id := ConnectionID(ctx); id != "" {
		req.ConnectionID = id
	}
	if !named {
		var def string
		err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			def, err = defaultName(tx)
			return err
		})
		if err != nil {
			return auth.Principal{}, true, err
		}
		if def == "" {
			return auth.Principal{}, false, nil
		}
	}
	p, err = s.Authenticate(ctx, req)
	return p, true, err
}

// TestInvoke runs the authentication path for the named authorizer, as
// TestInvokeAuthorizer does, and returns the function's checked answer,
// isAuthenticated false included. Unlike Authenticate it works on an
// INACTIVE authorizer too, so that one can be tried before it is made
// ACTIVE. Errors are Authenticate's.
func (s *Service) TestInvoke(ctx context.Context, name string, req Request) (Response, error) {
	req.AuthorizerName = name
	a, err := s.lookup(ctx, name)
	if err != nil {
		return Response{}, err
	}
	return s.invoke(ctx, a, req)
}

// invoke verifies the token signature, calls the function and checks its
// answer.
func (s *Service) invoke(ctx context.Context, a Authorizer, req Request) (Response, error) {
	token := req.Token
	if token == "" && a.TokenKeyName != "" {
		token, _ = req.param(a.TokenKeyName)
	}
	verified := false
	if !a.SigningDisabled {
		sig := req.TokenSignature
		if sig == "" {
			sig, _ = req.param(SignatureParam)
		}
		if err := s.verify(a, token, sig); err != nil {
			s.opts.Logger.Debug("custom authorizer refused a token signature", "authorizer", a.Name, "reason", err)
			return Response{}, err
		}
		verified = true
	}
	if isLambdaARN(a.FunctionARN) {
		return Response{}, refusal(ErrUnsupportedFunction, "authorizer %s names the AWS Lambda function %s, which moat cannot run; "+
			"give it the https:// URL of your function with UpdateAuthorizer", a.Name, a.FunctionARN)
	}
	u, err := s.functionURL(a.FunctionARN)
	if err != nil {
		return Response{}, refusal(ErrUnsupportedFunction, "authorizer %s: %v", a.Name, err)
	}
	connID := req.ConnectionID
	if connID == "" {
		connID = uuid.NewString()
	}
	body, err := json.Marshal(buildEvent(req, token, verified, connID))
	if err != nil {
		return Response{}, err
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		s.opts.Logger.Warn("custom authorizer refused a connection: too many invocations in flight",
			"authorizer", a.Name, "max_in_flight", s.opts.MaxInFlight)
		return Response{}, refusal(ErrBusy, "%d calls are running; try again later", s.opts.MaxInFlight)
	}
	raw, err := s.call(ctx, u.String(), body)
	if err != nil && ctx.Err() != nil {
		// The caller gave up (the client went away, the server stops):
		// not the function's failure.
		return Response{}, refusal(ErrFunctionFailed, "the request ended before the function answered: %v", ctx.Err())
	}
	if err != nil {
		s.opts.Logger.Warn("custom authorizer function failed", "authorizer", a.Name, "function", u.Redacted(),
			"connection", connID, "cause", err, "answer", FunctionAnswer(err))
		return Response{}, err
	}
	resp, err := parseResponse(raw)
	if err != nil {
		s.opts.Logger.Warn("custom authorizer function answered an invalid response", "authorizer", a.Name,
			"function", u.Redacted(), "connection", connID, "cause", err, "answer", FunctionAnswer(err))
		return Response{}, err
	}
	return resp, nil
}

// verify checks a token signature with the authorizer's keys.
func (s *Service) verify(a Authorizer, token, sig string) error {
	if token == "" {
		return refusal(ErrMissingToken, "authorizer %s expects the token under %q (header, query parameter or MQTT username parameter)", a.Name, a.TokenKeyName)
	}
	if sig == "" {
		return refusal(ErrMissingSignature, "authorizer %s expects %s", a.Name, SignatureParam)
	}
	if len(sig) > maxSignatureLen {
		return refusal(ErrBadSignature, "the signature is longer than %d characters", maxSignatureLen)
	}
	// A signature sent in a query string without URL-encoding arrives
	// with its '+' decoded to ' '.
	sig = strings.ReplaceAll(sig, " ", "+")
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(sig); err != nil {
			return refusal(ErrBadSignature, "the signature is not base64")
		}
	}
	digest := sha256.Sum256([]byte(token))
	names := make([]string, 0, len(a.SigningKeys))
	for n := range a.SigningKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k, err := s.keys.parse(a.SigningKeys[n])
		if err != nil {
			continue // checked when stored; a key that no longer parses verifies nothing
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], raw) == nil {
			return nil
		}
	}
	return refusal(ErrBadSignature, "the signature of the token verifies with none of the %d keys of authorizer %s", len(names), a.Name)
}

// event is the request event (reference §7.3).
type event struct {
	Token              string       `json:"token,omitempty"`
	SignatureVerified  bool         `json:"signatureVerified"`
	Protocols          []string     `json:"protocols"`
	ProtocolData       protocolData `json:"protocolData"`
	ConnectionMetadata struct {
		ID string `json:"id"`
	} `json:"connectionMetadata"`
}

type protocolData struct {
	TLS  *tlsData  `json:"tls,omitempty"`
	HTTP *httpData `json:"http,omitempty"`
	MQTT *mqttData `json:"mqtt,omitempty"`
}

type tlsData struct {
	ServerName string `json:"serverName,omitempty"`
}

type httpData struct {
	Headers     map[string]string `json:"headers"`
	QueryString string            `json:"queryString"`
}

type mqttData struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"` // base64
	ClientID string `json:"clientId,omitempty"` // only when the client sent one
}

func buildEvent(req Request, token string, verified bool, connID string) event {
	ev := event{Token: token, SignatureVerified: verified, Protocols: req.protocols()}
	if ev.Protocols == nil {
		ev.Protocols = []string{}
	}
	ev.ConnectionMetadata.ID = connID
	if slices.Contains(ev.Protocols, ProtocolTLS) {
		ev.ProtocolData.TLS = &tlsData{ServerName: req.ServerName}
	}
	if slices.Contains(ev.Protocols, ProtocolHTTP) {
		h := req.Headers
		if h == nil {
			h = map[string]string{}
		}
		ev.ProtocolData.HTTP = &httpData{Headers: h, QueryString: req.QueryString}
	}
	if slices.Contains(ev.Protocols, ProtocolMQTT) {
		m := &mqttData{Username: req.Username, ClientID: req.ClientID}
		if req.Password != nil {
			m.Password = base64.StdEncoding.EncodeToString(req.Password)
		}
		ev.ProtocolData.MQTT = m
	}
	return ev
}

// call POSTs the event and returns the answer's body: ErrFunctionFailed
// when the function cannot be reached, is too slow or answers non-2xx;
// ErrInvalidResponse when the body is too large.
func (s *Service) call(ctx context.Context, url string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, refusal(ErrFunctionFailed, "building the request: %v", err)
	}
	hr.Header.Set("Content-Type", contentTypeJSON)
	hr.Header.Set("Accept", contentTypeJSON)
	hr.Header.Set("User-Agent", userAgent)
	res, err := s.client.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return nil, refusal(ErrFunctionFailed, "the function did not answer within %v", s.opts.Timeout)
		}
		return nil, refusal(ErrFunctionFailed, "the function could not be reached: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, s.opts.MaxResponseBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, refusal(ErrFunctionFailed, "the function did not answer within %v", s.opts.Timeout)
		}
		return nil, refusal(ErrFunctionFailed, "reading the function's answer: %v", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, withAnswer(refusal(ErrFunctionFailed, "the function answered HTTP %d", res.StatusCode), b)
	}
	if int64(len(b)) > s.opts.MaxResponseBytes {
		return nil, refusal(ErrInvalidResponse, "the answer is larger than %d bytes", s.opts.MaxResponseBytes)
	}
	return b, nil
}

// answerError is a refusal that keeps the start of the function's
// answer apart from its message: the message may reach the device (an
// MQTT reason string), the answer is the operator's business. The warn
// log and FunctionAnswer show it.
type answerError struct {
	error
	answer string
}

func (e *answerError) Unwrap() error { return e.error }

// withAnswer attaches the start of the answer b, on one line, to err.
func withAnswer(err error, b []byte) error {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if s == "" {
		return err
	}
	return &answerError{error: err, answer: truncate(s, maxLoggedBodyLen)}
}

// FunctionAnswer is the start of the function's answer that err (a
// refusal of Authenticate or TestInvoke) was about, "" if none: for
// TestInvokeAuthorizer's message and the operator's log, never for the
// device.
func FunctionAnswer(err error) string {
	var e *answerError
	if errors.As(err, &e) {
		return e.answer
	}
	return ""
}

// wireResponse is the response document as sent; pointers tell absent
// members from zero ones.
type wireResponse struct {
	IsAuthenticated          *bool             `json:"isAuthenticated"`
	PrincipalID              *string           `json:"principalId"`
	PolicyDocuments          []json.RawMessage `json:"policyDocuments"`
	RefreshAfterInSeconds    *int64            `json:"refreshAfterInSeconds"`
	DisconnectAfterInSeconds *int64            `json:"disconnectAfterInSeconds"`
}

// parseResponse checks a function's answer (reference §7.4); a refusal is
// ErrInvalidResponse saying what is wrong. An answer with isAuthenticated
// false is valid whatever else it says.
func parseResponse(b []byte) (Response, error) {
	var w wireResponse
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Response{}, refusal(ErrInvalidResponse, "member %s must be a JSON %s", te.Field, wantType(te.Field))
		}
		if te != nil {
			return Response{}, withAnswer(refusal(ErrInvalidResponse, "the answer is a JSON %s, not an object", te.Value), b)
		}
		return Response{}, withAnswer(refusal(ErrInvalidResponse, "the answer is not a JSON object: %v", err), b)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Response{}, refusal(ErrInvalidResponse, "the answer has data after its JSON object")
	}
	if w.IsAuthenticated == nil {
		return Response{}, refusal(ErrInvalidResponse, "isAuthenticated is required")
	}
	if !*w.IsAuthenticated {
		r := Response{}
		if w.PrincipalID != nil {
			r.PrincipalID = *w.PrincipalID
		}
		return r, nil
	}
	r := Response{IsAuthenticated: true}
	if w.PrincipalID == nil {
		return Response{}, refusal(ErrInvalidResponse, "principalId is required when isAuthenticated is true")
	}
	if err := checkPrincipalID(*w.PrincipalID); err != nil {
		return Response{}, err
	}
	r.PrincipalID = *w.PrincipalID
	if len(w.PolicyDocuments) > maxPolicies {
		return Response{}, refusal(ErrInvalidResponse, "policyDocuments has %d documents; at most %d are allowed", len(w.PolicyDocuments), maxPolicies)
	}
	for i, raw := range w.PolicyDocuments {
		doc, err := policyText(raw)
		if err != nil {
			return Response{}, refusal(ErrInvalidResponse, "policyDocuments[%d] %v", i, err)
		}
		d, err := policy.Parse([]byte(doc))
		if err == nil {
			_, err = policy.Compile(fmt.Sprintf("policyDocuments[%d]", i), "1", d)
		}
		if err != nil {
			return Response{}, refusal(ErrInvalidResponse, "policyDocuments[%d] is not a valid IoT policy: %v", i, err)
		}
		r.PolicyDocuments = append(r.PolicyDocuments, doc)
	}
	var err error
	if r.RefreshAfterInSeconds, err = seconds("refreshAfterInSeconds", w.RefreshAfterInSeconds); err != nil {
		return Response{}, err
	}
	if r.DisconnectAfterInSeconds, err = seconds("disconnectAfterInSeconds", w.DisconnectAfterInSeconds); err != nil {
		return Response{}, err
	}
	return r, nil
}

func wantType(field string) string {
	switch field {
	case "isAuthenticated":
		return "boolean"
	case "principalId":
		return "string"
	case "policyDocuments":
		return "array"
	}
	return "whole number"
}

func checkPrincipalID(id string) error {
	if len(id) < 1 || len(id) > maxPrincipalID {
		return refusal(ErrInvalidResponse, "principalId must be 1 to %d characters long, got %d", maxPrincipalID, len(id))
	}
	for _, r := range id {
		if !alnum(r) {
			return refusal(ErrInvalidResponse, "principalId %q must match [a-zA-Z0-9]{1,128}", truncate(id, maxPrincipalID))
		}
	}
	return nil
}

// policyText is a policy document of the answer as JSON text: a JSON
// string holding the document, or the document as an object.
func policyText(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) > 0 && t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", fmt.Errorf("is not a JSON string: %v", err)
		}
		return s, nil
	case len(t) > 0 && t[0] == '{':
		return string(t), nil
	}
	return "", errors.New("must be a policy document: a JSON string or object")
}

func seconds(member string, v *int64) (int, error) {
	if v == nil {
		return defaultSeconds, nil
	}
	if *v < minSeconds || *v > maxSeconds {
		return 0, refusal(ErrInvalidResponse, "%s must be from %d to %d, got %d", member, minSeconds, maxSeconds, *v)
	}
	return int(*v), nil
}
