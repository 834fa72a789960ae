package policy

import (
	"fmt"
	"strconv"
)

// SyntaxError reports why a policy document was rejected by Parse. The
// control plane maps it to MalformedPolicyException (HTTP 400); its Error
// text is safe to return to the caller.
type SyntaxError struct {
	// Statement is the 0-based index of the offending statement in the
	// Statement array, or -1 when the problem is at document level
	// (JSON syntax, size, Version, Id, Statement itself).
	Statement int
	// Sid is the statement's Sid when it has one, else "".
	Sid string
	// Field names the element at fault, as a path inside the statement or
	// document: "Effect", "Action[1]", "Condition.StringLike", "Version".
	// It is "" for problems that concern the document as a whole.
	Field string
	// Msg says what is wrong, in words a policy author understands.
	Msg string
}

// Error formats the error as
//
//	statement[2] (Sid "AllowPub"): Effect: must be "Allow" or "Deny", got "allow"
//
// or, at document level, as "policy document: Version: ...".
func (e *SyntaxError) Error() string {
	where := "policy document"
	if e.Statement >= 0 {
		where = "statement[" + strconv.Itoa(e.Statement) + "]"
		if e.Sid != "" {
			where += " (Sid " + strconv.Quote(e.Sid) + ")"
		}
	}
	if e.Field == "" {
		return where + ": " + e.Msg
	}
	return where + ": " + e.Field + ": " + e.Msg
}

// docErr returns a document-level SyntaxError.
func docErr(field, format string, args ...any) *SyntaxError {
	return &SyntaxError{Statement: -1, Field: field, Msg: fmt.Sprintf(format, args...)}
}
