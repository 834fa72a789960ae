package authorizer

import (
	"errors"
	"fmt"
)

// ErrDenied is the parent of every refusal of Authenticate: a caller that
// checks errors.Is(err, ErrDenied) refuses the connection or request (MQTT
// CONNACK "not authorized", HTTP 403) without looking further. Each
// refusal wraps one of the errors below too, so that a caller (or a test)
// can tell them apart; the message says what was wrong in words a device
// developer can act on. An error that does not wrap ErrDenied is moat's
// own failure (the store could not be read): the caller refuses too, as a
// server error.
var ErrDenied = errors.New("custom authorizer refused the connection")

// Refusals before the function is called.
var (
	// ErrNoAuthorizer: the request names no authorizer and no default
	// authorizer is set.
	ErrNoAuthorizer = fmt.Errorf("%w: no authorizer named and no default authorizer set", ErrDenied)
	// ErrUnknownAuthorizer: the named authorizer does not exist.
	ErrUnknownAuthorizer = fmt.Errorf("%w: no such authorizer", ErrDenied)
	// ErrInactive: the authorizer exists but is INACTIVE.
	ErrInactive = fmt.Errorf("%w: authorizer is INACTIVE", ErrDenied)
	// ErrMissingToken: signing is enabled and the request carries no
	// token under the authorizer's tokenKeyName.
	ErrMissingToken = fmt.Errorf("%w: missing token", ErrDenied)
	// ErrMissingSignature: signing is enabled and the request carries no
	// x-amz-customauthorizer-signature.
	ErrMissingSignature = fmt.Errorf("%w: missing token signature", ErrDenied)
	// ErrBadSignature: the signature is not base64, or verifies with none
	// of the authorizer's tokenSigningPublicKeys.
	ErrBadSignature = fmt.Errorf("%w: token signature verification failed", ErrDenied)
	// ErrUnsupportedFunction: the authorizer's function is an AWS Lambda
	// ARN, which moat cannot run, or a URL the operator's allow list
	// refuses.
	ErrUnsupportedFunction = fmt.Errorf("%w: function cannot be called", ErrDenied)
	// ErrBusy: too many invocations are in flight (Options.MaxInFlight);
	// the client should retry later.
	ErrBusy = fmt.Errorf("%w: too many authorizer invocations in flight", ErrDenied)
)

// Refusals from the function's answer.
var (
	// ErrNotAuthenticated: the function answered isAuthenticated false.
	ErrNotAuthenticated = fmt.Errorf("%w: function answered isAuthenticated false", ErrDenied)
	// ErrFunctionFailed: the function could not be reached, did not
	// answer within Options.Timeout, or answered with an HTTP status other
	// than 2xx.
	ErrFunctionFailed = fmt.Errorf("%w: function failed", ErrDenied)
	// ErrInvalidResponse: the function's answer is not a valid response
	// document (not JSON, too large, a member missing or out of range, too
	// many policies, a policy that does not parse).
	ErrInvalidResponse = fmt.Errorf("%w: function's response is not valid", ErrDenied)
)

// refusal wraps kind (one of the errors above) with details.
func refusal(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}
