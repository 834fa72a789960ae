package topic

import (
	"errors"
	"strconv"
)

// Parent errors: every *Error matches exactly one of them with errors.Is, so
// the broker can map a failure to its reason code with a single check.
var (
	// ErrInvalidName is matched by every error from ValidateName. MQTT 5
	// reason code 0x90 (Topic Name invalid) in PUBACK or DISCONNECT; MQTT
	// 3.1.1 has no code and closes the connection.
	ErrInvalidName = errors.New("topic: invalid topic name")

	// ErrInvalidFilter is matched by every error from ValidateFilter,
	// ParseShared and Trie.Insert/Remove. MQTT 5 reason code 0x8F (Topic
	// Filter invalid) in SUBACK or UNSUBACK; MQTT 3.1.1 SUBACK 0x80.
	ErrInvalidFilter = errors.New("topic: invalid topic filter")
)

// Kind says which rule a topic name or filter broke. Kind implements error,
// so errors.Is(err, topic.TooLong) works on any error returned here.
type Kind uint8

// The rules. Clause numbers are MQTT 5.0's; MQTT 3.1.1's follow where they
// differ.
const (
	// Empty: zero-length name or filter [MQTT-4.7.3-1].
	Empty Kind = iota + 1
	// BadUTF8: not well-formed UTF-8, or a UTF-16 surrogate
	// [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]).
	BadUTF8
	// NullChar: contains U+0000 [MQTT-4.7.3-2], [MQTT-1.5.4-2].
	NullChar
	// WildcardInName: '+' or '#' in a topic name [MQTT-4.7.0-1]
	// (3.1.1: [MQTT-4.7.1-1]), [MQTT-3.3.2-2].
	WildcardInName
	// PlusNotWholeLevel: '+' shares its level with other characters
	// [MQTT-4.7.1-2] (3.1.1: [MQTT-4.7.1-3]).
	PlusNotWholeLevel
	// HashNotWholeLevel: '#' shares its level with other characters
	// [MQTT-4.7.1-1] (3.1.1: [MQTT-4.7.1-2]).
	HashNotWholeLevel
	// HashNotLast: '#' is followed by more levels [MQTT-4.7.1-1]
	// (3.1.1: [MQTT-4.7.1-2]).
	HashNotLast
	// TooLong: longer than Limits.MaxLength bytes (AWS IoT: 256).
	TooLong
	// TooManyLevels: more than Limits.MaxLevels levels (AWS IoT: 8, that
	// is 7 slashes).
	TooManyLevels
	// BadShareName: a $share/ filter whose ShareName is empty or contains
	// '+' or '#' [MQTT-4.8.2-1], [MQTT-4.8.2-2].
	BadShareName
	// NoSharedFilter: a $share/{ShareName} filter with no "/" and topic
	// filter after the ShareName [MQTT-4.8.2-2].
	NoSharedFilter
)

var kindText = [...]string{
	Empty:             "empty",
	BadUTF8:           "not well-formed UTF-8",
	NullChar:          "contains U+0000",
	WildcardInName:    "wildcard '+' or '#' in a topic name",
	PlusNotWholeLevel: "'+' must occupy a whole level",
	HashNotWholeLevel: "'#' must occupy a whole level",
	HashNotLast:       "'#' must be the last level",
	TooLong:           "too long",
	TooManyLevels:     "too many levels",
	BadShareName:      "share name empty or contains '+' or '#'",
	NoSharedFilter:    "shared subscription without a topic filter",
}

// String returns a short lowercase description of the rule.
func (k Kind) String() string {
	if int(k) < len(kindText) && kindText[k] != "" {
		return kindText[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error implements error, so a Kind can be the target of errors.Is.
func (k Kind) Error() string { return "topic: " + k.String() }

// Error is the error returned by validation. It does not keep the topic
// string, so logging it never pins a packet buffer.
type Error struct {
	Kind   Kind // which rule was broken
	Filter bool // true for a topic filter, false for a topic name
	Pos    int  // byte offset of the offending byte, or -1 for whole-string rules
}

func (e *Error) Error() string {
	what := "topic: invalid topic name: "
	if e.Filter {
		what = "topic: invalid topic filter: "
	}
	s := what + e.Kind.String()
	if e.Pos >= 0 {
		s += " (byte " + strconv.Itoa(e.Pos) + ")"
	}
	return s
}

// Unwrap returns the Kind, so errors.Is(err, topic.TooLong) holds.
func (e *Error) Unwrap() error { return e.Kind }

// Is reports whether target is the parent error of e: ErrInvalidFilter for
// a filter, ErrInvalidName for a name.
func (e *Error) Is(target error) bool {
	if e.Filter {
		return target == ErrInvalidFilter
	}
	return target == ErrInvalidName
}

func nameErr(k Kind, pos int) error   { return &Error{Kind: k, Pos: pos} }
func filterErr(k Kind, pos int) error { return &Error{Kind: k, Filter: true, Pos: pos} }
