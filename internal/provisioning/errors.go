package provisioning

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per stage at which a template can fail. Every error
// Parse or Execute returns is an *Error that wraps exactly one of them, so
// callers choose the AWS error with errors.Is.
var (
	// ErrSyntax means the template body is not one well-formed JSON object
	// within MaxBodySize and MaxNesting. Returned by Parse.
	ErrSyntax = errors.New("malformed template")
	// ErrInvalid means the body is JSON but not a valid provisioning
	// template: an unknown section, resource type or property, a badly
	// shaped intrinsic function, a reference to something not declared.
	// Returned by Parse. The control plane maps ErrSyntax and ErrInvalid to
	// InvalidRequestException.
	ErrInvalid = errors.New("invalid template")
	// ErrMissingParameter means Execute was not given a value for a
	// parameter the template uses and that has no Default. For JITP this is
	// a certificate without a subject field the template declares.
	ErrMissingParameter = errors.New("missing parameter")
	// ErrEvaluation means a value could not be computed at Execute time
	// from the parameters given: Fn::Select out of range, Fn::FindInMap on
	// an absent key, a property that resolved to the wrong type.
	ErrEvaluation = errors.New("template evaluation failed")
)

// Error is the error type of Parse and Execute. Its text is safe to return
// to an API caller: it quotes only the template and the parameter names.
type Error struct {
	// Path locates the fault in the template, as JSON keys joined by dots
	// with [i] for array indexes: "Resources.thing.Properties.ThingName".
	// It is "" for faults of the body as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
	// Kind is the sentinel this error wraps (ErrSyntax, ErrInvalid, ...).
	Kind error
}

// Error formats the error as "PATH: MSG", or MSG alone without a path.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Unwrap returns the error's sentinel Kind.
func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends an array index to a path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
