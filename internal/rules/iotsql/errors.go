package iotsql

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// SyntaxError is a statement that does not parse or compile: a syntax
// error, an unknown or unsupported function, a wrong number of arguments,
// a feature of a later SQL version, or an invalid FROM topic filter. Line
// and Col locate it (both from 1; Col counts characters, not bytes).
// The rules API reports it as SqlParseException.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

// Error returns "line L:C: message", e.g.
// "line 1:17: expected FROM, found 'WHERE'".
func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg) }

// Errors from Parse and ParseTemplate that are not about a position.
var (
	// ErrVersion is an awsIotSqlVersion other than "", "2015-10-08",
	// "2016-03-23" and "beta".
	ErrVersion = errors.New("iotsql: unknown SQL version")
)

// Errors from Eval and Render. The rules engine reports them through the
// rule's error action; the message is not matched.
var (
	// ErrNoEnv is get_thing_shadow evaluated with a nil Input.Env.
	ErrNoEnv = errors.New("iotsql: get_thing_shadow needs a shadow service (Input.Env is nil)")

	// ErrStarNotObject is SELECT *, expr ... on a payload that is not a
	// JSON object: there is no object to add keys to (AWS: a binary
	// payload must be selected as * alone or through functions).
	ErrStarNotObject = errors.New("iotsql: SELECT * with other items needs a JSON object payload")
)

// posError is an error at a byte offset, turned into a SyntaxError with
// line and column once the source is known.
type posError struct {
	pos int
	msg string
}

// syntaxError converts a byte offset of src into line and column.
func syntaxError(src string, pos int, msg string) *SyntaxError {
	pos = min(max(pos, 0), len(src))
	line, col := 1, 1
	for i := 0; i < pos; {
		r, n := utf8.DecodeRuneInString(src[i:])
		i += n
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Col: col, Msg: msg}
}
