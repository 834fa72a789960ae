// Package awsapi is the AWS REST-JSON plumbing shared by moat's HTTP
// surfaces: the error shape the AWS SDKs parse, size-limited JSON request
// decoding, and JSON response encoding.
//
// An *Error carries its AWS error code, its HTTP status and a message that is
// safe to show the caller; the internal cause (if any) is kept apart and only
// logged. Domain packages return *Error values for failures the caller must
// see (ResourceNotFoundException, ...); anything else that reaches a surface
// is an internal failure and is answered with InternalFailureException and a
// request id, never with its text.
package awsapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is an AWS error code, the value of the X-Amzn-ErrorType header and of
// the body's "code" member.
type Code string

// Error codes of the iot, iot-data and auth surfaces, each with its HTTP
// status in the botocore models (statuses below).
const (
	InvalidRequest         Code = "InvalidRequestException"
	Unauthorized           Code = "UnauthorizedException"
	ResourceNotFound       Code = "ResourceNotFoundException"
	ResourceAlreadyExists  Code = "ResourceAlreadyExistsException"
	VersionConflict        Code = "VersionConflictException"
	DeleteConflict         Code = "DeleteConflictException"
	VersionsLimitExceeded  Code = "VersionsLimitExceededException"
	CertificateState       Code = "CertificateStateException"
	CertificateValidation  Code = "CertificateValidationException"
	CertificateConflict    Code = "CertificateConflictException"
	MalformedPolicy        Code = "MalformedPolicyException"
	SQLParse               Code = "SqlParseException" // a topic rule's SQL does not parse
	LimitExceeded          Code = "LimitExceededException"
	Throttling             Code = "ThrottlingException"
	InternalFailure        Code = "InternalFailureException"
	ServiceUnavailable     Code = "ServiceUnavailableException"
	Conflict               Code = "ConflictException"
	RequestEntityTooLarge  Code = "RequestEntityTooLargeException"
	UnsupportedEncoding    Code = "UnsupportedDocumentEncodingException"
	MethodNotAllowed       Code = "MethodNotAllowedException"
	Forbidden              Code = "ForbiddenException"
	UnknownOperation       Code = "UnknownOperationException"
	SerializationException Code = "SerializationException"

	// Authentication failures, as AWS's front door answers them.
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	InvalidSignature           Code = "InvalidSignatureException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	AccessDenied               Code = "AccessDeniedException"
)

var statuses = map[Code]int{
	InvalidRequest:             http.StatusBadRequest,
	Unauthorized:               http.StatusUnauthorized,
	ResourceNotFound:           http.StatusNotFound,
	ResourceAlreadyExists:      http.StatusConflict,
	VersionConflict:            http.StatusConflict,
	DeleteConflict:             http.StatusConflict,
	VersionsLimitExceeded:      http.StatusConflict,
	CertificateState:           http.StatusNotAcceptable,
	CertificateValidation:      http.StatusBadRequest,
	CertificateConflict:        http.StatusConflict,
	MalformedPolicy:            http.StatusBadRequest,
	SQLParse:                   http.StatusBadRequest,
	LimitExceeded:              http.StatusGone,
	Throttling:                 http.StatusBadRequest, // iot; iot-data uses 429 (see DataPlane)
	InternalFailure:            http.StatusInternalServerError,
	ServiceUnavailable:         http.StatusServiceUnavailable,
	Conflict:                   http.StatusConflict,
	RequestEntityTooLarge:      http.StatusRequestEntityTooLarge,
	UnsupportedEncoding:        http.StatusUnsupportedMediaType,
	MethodNotAllowed:           http.StatusMethodNotAllowed,
	Forbidden:                  http.StatusForbidden,
	UnknownOperation:           http.StatusNotFound,
	SerializationException:     http.StatusBadRequest,
	MissingAuthenticationToken: http.StatusForbidden,
	IncompleteSignature:        http.StatusForbidden,
	InvalidSignature:           http.StatusForbidden,
	UnrecognizedClient:         http.StatusForbidden,
	AccessDenied:               http.StatusForbidden,
}

// Status is the HTTP status AWS uses for code; 400 for client codes it does
// not know.
func (c Code) Status() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusBadRequest
}

// Error is an API error as the caller sees it.
type Error struct {
	Code    Code
	Message string // safe to show the caller
	// ResourceID and ResourceARN are sent with ResourceAlreadyExistsException
	// (and ResourceID with ConflictException), as AWS does.
	ResourceID  string
	ResourceARN string
	// Status overrides Code.Status() when non-zero.
	Status int
	// Cause is the internal reason; logged, never sent.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus is the status the response carries.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.Status()
}

// Errorf makes an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Is reports whether err is (or wraps) an *Error with this code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Internal wraps an unexpected failure: the caller sees only
// InternalFailureException.
func Internal(cause error) *Error {
	return &Error{Code: InternalFailure, Message: "An internal failure occurred.", Cause: cause}
}

// From converts any error into an *Error: *Error values pass through, the
// rest become internal failures.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// DataPlane converts an error for the iot-data surface, whose answers
// differ from the control plane's in two ways (botocore
// iot-data/2015-05-28 and AWS's data endpoint):
//
//   - Every refusal of the caller's credentials (MissingAuthenticationToken,
//     IncompleteSignature, InvalidSignature, UnrecognizedClient,
//     AccessDenied) is ForbiddenException 403 with the same message: the
//     data endpoint answers an unsigned request with
//     "X-Amzn-ErrorType: ForbiddenException" and the message "Missing
//     Authentication Token", and a bad signature with the usual
//     signature-mismatch message, and ForbiddenException is the code the
//     iot-data SDKs know.
//   - ThrottlingException is 429 there (400 in iot).
//
// Other errors pass through unchanged; nil stays nil.
func DataPlane(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case MissingAuthenticationToken, IncompleteSignature, InvalidSignature, UnrecognizedClient, AccessDenied:
		cause := e.Cause // names the original code already (sigv4.Error)
		if cause == nil {
			cause = e
		}
		return &Error{Code: Forbidden, Message: e.Message, Cause: cause}
	case Throttling:
		c := *e
		c.Status = http.StatusTooManyRequests
		return &c
	case InvalidRequest:
		if e.Status == http.StatusRequestEntityTooLarge {
			// The body limit: iot-data has its own code for it.
			return &Error{Code: RequestEntityTooLarge, Message: e.Message, Cause: e.Cause}
		}
	}
	return err
}
