package document

import "strconv"

// Error is an error of the Device Shadow service as devices and SDKs see it:
// Code is the HTTP status (also the "code" of the MQTT error document) and
// Message AWS's text, word for word ("Device Shadow error messages" in the
// AWS IoT Developer Guide). Both are safe to show to the client.
//
// Two *Error are the same error (errors.Is) when code and message are equal.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return "shadow: " + strconv.Itoa(e.Code) + " " + e.Message
}

// Is reports whether target is an *Error with the same code and message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == e.Message
}

// Errors of update requests (ParseUpdate, ClientToken, Apply).
var (
	// ErrInvalidJSON: the payload is not JSON, not UTF-8 (after the 415
	// check), not an object, or has an array holding a null.
	ErrInvalidJSON = &Error{400, "Invalid JSON"}
	// ErrMissingState: an update without "state".
	ErrMissingState = &Error{400, "Missing required node: state"}
	// ErrStateNotObject: "state" is neither an object nor null.
	ErrStateNotObject = &Error{400, "State node must be an object"}
	// ErrDesiredNotObject: "state.desired" is neither an object nor null.
	ErrDesiredNotObject = &Error{400, "Desired node must be an object"}
	// ErrReportedNotObject: "state.reported" is neither an object nor null.
	ErrReportedNotObject = &Error{400, "Reported node must be an object"}
	// ErrInvalidVersion: "version" is not a non-negative integer.
	ErrInvalidVersion = &Error{400, "Invalid version"}
	// ErrInvalidClientToken: "clientToken" is not a string, or is too long.
	ErrInvalidClientToken = &Error{400, "Invalid clientToken"}
	// ErrTooDeep: desired or reported nests deeper than the default
	// MaxDepth; other limits get the same message with their number.
	ErrTooDeep = &Error{400, "JSON contains too many levels of nesting; maximum is 6"}
	// ErrInvalidNode: "state" has a member other than desired and reported.
	ErrInvalidNode = &Error{400, "State contains an invalid node"}
	// ErrVersionConflict: the update's version is not the shadow's.
	ErrVersionConflict = &Error{409, "Version conflict"}
	// ErrPayloadTooLarge: the request's state, or the state it would leave,
	// exceeds MaxStateBytes.
	ErrPayloadTooLarge = &Error{413, "The payload exceeds the maximum size allowed"}
	// ErrUnsupportedEncoding: the payload is UTF-16 or UTF-32 (AWS's text,
	// typo included).
	ErrUnsupportedEncoding = &Error{415, "Unsupported documented encoding; supported encoding is UTF-8"}
)

// Errors the shadow service reports from its own checks; defined here so that
// every text of the service is in one place.
var (
	// ErrUnauthorized: the caller is not authenticated.
	ErrUnauthorized = &Error{401, "Unauthorized"}
	// ErrForbidden: the caller is not allowed the operation.
	ErrForbidden = &Error{403, "Forbidden"}
	// ErrThingNotFound: the thing does not exist.
	ErrThingNotFound = &Error{404, "Thing not found"}
	// ErrInternal: the service failed.
	ErrInternal = &Error{500, "Internal service failure"}
)

// NoShadowError is the 404 for a get or delete of a shadow that does not
// exist. name is the shadow name of a named shadow and the thing name for
// the classic shadow; AWS quotes it: No shadow exists with name: 'lamp-1'.
func NoShadowError(name string) *Error {
	return &Error{404, "No shadow exists with name: '" + name + "'"}
}

// tooDeep is the depth error for a limit of max levels.
func tooDeep(max int) *Error {
	if max == DefaultMaxDepth {
		return ErrTooDeep
	}
	return &Error{400, "JSON contains too many levels of nesting; maximum is " + strconv.Itoa(max)}
}

// ErrorDocument is the error document of the shadow service, published on
// .../get/rejected, .../update/rejected and .../delete/rejected and returned
// as the body of an HTTP error: {"code":C,"message":M,"timestamp":T} plus
// "clientToken" when clientToken is not empty.
func ErrorDocument(e *Error, now int64, clientToken string) []byte {
	b := make([]byte, 0, 48+len(e.Message)+len(clientToken))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now, 10)
	b = appendClientToken(b, clientToken)
	return append(b, '}')
}
