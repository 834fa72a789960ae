package sigv4

import (
	"errors"
	"fmt"
	"net/http"
)

// AWS error codes written in X-Amzn-ErrorType and the body "code" field.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeExpiredToken               = "ExpiredTokenException"
	CodeInternalFailure            = "InternalFailure"
)

// Kinds of verification failure. Every *Error returned by Verify matches
// exactly one of these with errors.Is; children wrap their parent with %w
// so that one check matches the whole family (errors.Is(err, ErrMismatch)
// is true for ErrPayloadMismatch too).
var (
	// ErrMissingAuth: the request carries neither an Authorization header
	// nor presigned query parameters. Code MissingAuthenticationTokenException.
	ErrMissingAuth = errors.New("sigv4: missing authentication")

	// ErrMalformed: the Authorization header, the presigned query
	// parameters, X-Amz-Date, X-Amz-Expires or X-Amz-Content-Sha256 cannot
	// be parsed, a required piece is missing, or "host" is not signed.
	// Code IncompleteSignatureException.
	ErrMalformed = errors.New("sigv4: malformed signature")

	// ErrScope: the credential scope names a service, region or terminator
	// this verifier does not accept, or its date is not the X-Amz-Date day.
	// Code InvalidSignatureException.
	ErrScope = errors.New("sigv4: credential scope rejected")

	// ErrExpired: X-Amz-Date is further than MaxSkew from now (in either
	// direction), or a presigned URL is past X-Amz-Expires.
	// Code InvalidSignatureException, message "Signature expired: ...".
	ErrExpired = errors.New("sigv4: signature expired or not yet current")

	// ErrMismatch: the signature does not match the request.
	// Code InvalidSignatureException.
	ErrMismatch = errors.New("sigv4: signature mismatch")

	// ErrPayloadMismatch: X-Amz-Content-Sha256 names a hash that is not the
	// hash of the body the server received (the body changed after signing).
	ErrPayloadMismatch = fmt.Errorf("%w: payload hash", ErrMismatch)

	// ErrUnknownKey is what a Lookup returns (wrapped is fine) for an access
	// key id it does not know. Verify reports it as
	// UnrecognizedClientException and errors.Is(err, ErrUnknownKey) holds.
	ErrUnknownKey = errors.New("sigv4: unknown access key id")

	// ErrInvalidToken: the session token is missing, unexpected or wrong.
	// Code UnrecognizedClientException.
	ErrInvalidToken = errors.New("sigv4: invalid security token")

	// ErrExpiredToken is what a Lookup returns (wrapped is fine) for
	// temporary credentials past their expiration. Code
	// ExpiredTokenException, status 403.
	ErrExpiredToken = errors.New("sigv4: expired security token")

	// ErrInternal: the Lookup failed for another reason, or the Verifier is
	// misconfigured. Code InternalFailure, status 500; Unwrap gives the cause.
	ErrInternal = errors.New("sigv4: internal failure")
)

// Error is a verification failure in the AWS error shape. Code and Message
// are safe to send to the client: they never contain the secret, the
// signature the server computed or the canonical request. The cause (for
// example the Lookup error) stays internal and is reachable with errors.As /
// errors.Unwrap only.
type Error struct {
	Code    string // AWS error code, e.g. "InvalidSignatureException"
	Message string // safe, client-facing message

	status int
	kind   error // one of the Err* sentinels
	cause  error // internal cause, never serialised
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status code to answer with: 400 for
// IncompleteSignatureException, 500 for InternalFailure, 403 otherwise.
func (e *Error) HTTPStatus() int { return e.status }

// ErrorCode returns Code; it is the method the AWS SDKs use to classify
// errors (smithy.APIError).
func (e *Error) ErrorCode() string { return e.Code }

// Is reports whether target is e's kind or one of the kind's parents.
func (e *Error) Is(target error) bool { return errors.Is(e.kind, target) }

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

func newError(kind error, msg string) *Error {
	e := &Error{Message: msg, kind: kind, status: http.StatusForbidden}
	switch {
	case errors.Is(kind, ErrMissingAuth):
		e.Code = CodeMissingAuthenticationToken
	case errors.Is(kind, ErrMalformed):
		e.Code, e.status = CodeIncompleteSignature, http.StatusBadRequest
	case errors.Is(kind, ErrUnknownKey), errors.Is(kind, ErrInvalidToken):
		e.Code = CodeUnrecognizedClient
	case errors.Is(kind, ErrExpiredToken):
		e.Code = CodeExpiredToken
	case errors.Is(kind, ErrInternal):
		e.Code, e.status = CodeInternalFailure, http.StatusInternalServerError
	default: // ErrScope, ErrExpired, ErrMismatch
		e.Code = CodeInvalidSignature
	}
	return e
}

func malformed(format string, args ...any) *Error {
	return newError(ErrMalformed, fmt.Sprintf(format, args...))
}

const (
	msgMissingAuth  = "Missing Authentication Token"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgInternal     = "An internal error occurred while verifying the request signature."
)

func errMismatch() *Error { return newError(ErrMismatch, msgMismatch) }
