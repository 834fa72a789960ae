package query

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/moat-iot/moat/internal/awsapi"
)

// Code is an awsQuery error code, the <Code> of an <ErrorResponse>.
type Code string

// The protocol-level codes of the awsQuery services (IAM and STS): what
// AWS's front door answers before a service looks at the request, and the
// authentication failures, each with its HTTP status below. Services add
// their own codes (NoSuchEntity, EntityAlreadyExists, ...).
const (
	// Request shape.
	MissingAction        Code = "MissingAction"        // no Action parameter
	InvalidAction        Code = "InvalidAction"        // an Action the service does not have
	MalformedQueryString Code = "MalformedQueryString" // the form body does not parse
	ValidationError      Code = "ValidationError"      // a member breaks its model constraint
	RequestTooLarge      Code = "RequestEntityTooLarge"

	// Authentication and authorization.
	MissingAuthenticationToken Code = "MissingAuthenticationToken"
	IncompleteSignature        Code = "IncompleteSignature"
	SignatureDoesNotMatch      Code = "SignatureDoesNotMatch"
	InvalidClientTokenID       Code = "InvalidClientTokenId"
	ExpiredToken               Code = "ExpiredToken"
	AccessDenied               Code = "AccessDenied"

	// Server side.
	InternalFailure    Code = "InternalFailure"
	ServiceUnavailable Code = "ServiceUnavailable"
)

var statuses = map[Code]int{
	MissingAction:              http.StatusBadRequest,
	InvalidAction:              http.StatusBadRequest,
	MalformedQueryString:       http.StatusBadRequest,
	ValidationError:            http.StatusBadRequest,
	RequestTooLarge:            http.StatusRequestEntityTooLarge,
	MissingAuthenticationToken: http.StatusForbidden,
	IncompleteSignature:        http.StatusBadRequest,
	SignatureDoesNotMatch:      http.StatusForbidden,
	InvalidClientTokenID:       http.StatusForbidden,
	ExpiredToken:               http.StatusForbidden,
	AccessDenied:               http.StatusForbidden,
	InternalFailure:            http.StatusInternalServerError,
	ServiceUnavailable:         http.StatusServiceUnavailable,
}

// Status is the HTTP status of the code: the table above, else 400.
func (c Code) Status() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusBadRequest
}

// Errorf makes an *awsapi.Error with an awsQuery code and its status.
func Errorf(code Code, format string, args ...any) *awsapi.Error {
	return &awsapi.Error{Code: awsapi.Code(code), Status: code.Status(), Message: fmt.Sprintf(format, args...)}
}

// restCodes translates the REST-JSON codes of the layers every surface
// shares (internal/auth's SigV4 verification, the access layer's
// AccessDeniedException) into the codes awsQuery clients know.
var restCodes = map[awsapi.Code]Code{
	awsapi.MissingAuthenticationToken: MissingAuthenticationToken,
	awsapi.IncompleteSignature:        IncompleteSignature,
	awsapi.InvalidSignature:           SignatureDoesNotMatch,
	awsapi.UnrecognizedClient:         InvalidClientTokenID,
	"ExpiredTokenException":           ExpiredToken,
	awsapi.AccessDenied:               AccessDenied,
	awsapi.Unauthorized:               AccessDenied,
	awsapi.Forbidden:                  AccessDenied,
	awsapi.InternalFailure:            InternalFailure,
	"InternalFailure":                 InternalFailure,
	awsapi.ServiceUnavailable:         ServiceUnavailable,
	awsapi.RequestEntityTooLarge:      RequestTooLarge,
	awsapi.InvalidRequest:             ValidationError,
}

// Translate returns err as an *awsapi.Error whose code an awsQuery client
// knows: REST-JSON codes of the shared layers are renamed (with the status
// of the new code, except that a 413 stays a 413), awsQuery codes pass
// through, and anything that is not an *awsapi.Error is an internal
// failure whose text is never shown. nil stays nil.
func Translate(err error) *awsapi.Error {
	if err == nil {
		return nil
	}
	var e *awsapi.Error
	if !errors.As(err, &e) {
		return &awsapi.Error{Code: awsapi.Code(InternalFailure), Status: InternalFailure.Status(),
			Message: "An internal failure occurred.", Cause: err}
	}
	code, ok := restCodes[e.Code]
	if !ok {
		return e
	}
	status := code.Status()
	if e.HTTPStatus() == http.StatusRequestEntityTooLarge {
		code, status = RequestTooLarge, http.StatusRequestEntityTooLarge
	}
	return &awsapi.Error{Code: awsapi.Code(code), Status: status, Message: e.Message, Cause: e.Cause}
}
