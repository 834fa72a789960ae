package iam

import (
	"fmt"
	"net/http"

	"github.com/moat-iot/moat/internal/awsapi/query"
)

// Code is an IAM (or STS) error code as the awsQuery protocol writes it in
// <Code>, e.g. "NoSuchEntity".
type Code string

// Error codes, each with its HTTP status (botocore iam 2010-05-08 and sts
// 2011-06-15 "error" traits): IAM's own below, the protocol's (shared
// with every awsQuery service) in internal/awsapi/query.
const (
	// NoSuchEntity: the user, role, policy, version or key does not exist.
	NoSuchEntity Code = "NoSuchEntity"
	// EntityAlreadyExists: the name is taken (names are case-insensitive).
	EntityAlreadyExists Code = "EntityAlreadyExists"
	// DeleteConflict: the entity still has what must go first (access
	// keys, policies, attachments, versions).
	DeleteConflict Code = "DeleteConflict"
	// LimitExceeded: a quota (keys per user, versions per policy,
	// policies per user or role, policy size) would be exceeded.
	LimitExceeded Code = "LimitExceeded"
	// MalformedPolicyDocument: the policy document does not parse.
	MalformedPolicyDocument Code = "MalformedPolicyDocument"
	// InvalidInput: a value is well-formed but not acceptable (an ARN of
	// the wrong kind, duplicate tag keys).
	InvalidInput Code = "InvalidInput"
	// ValidationError: a member breaks its model constraint (length,
	// pattern, range). The awsQuery protocol's own code.
	ValidationError = Code(query.ValidationError)
	// UnmodifiableEntity: the entity is protected: the administrator user
	// and its data-dir access key, and the AWS managed policies.
	UnmodifiableEntity Code = "UnmodifiableEntity"
	// AccessDenied: STS refuses to issue credentials (unknown role, or a
	// trust policy that does not trust the caller). The awsQuery
	// protocol's own code.
	AccessDenied = Code(query.AccessDenied)
)

var statuses = map[Code]int{
	NoSuchEntity:            http.StatusNotFound,
	EntityAlreadyExists:     http.StatusConflict,
	DeleteConflict:          http.StatusConflict,
	LimitExceeded:           http.StatusConflict,
	MalformedPolicyDocument: http.StatusBadRequest,
	InvalidInput:            http.StatusBadRequest,
	UnmodifiableEntity:      http.StatusBadRequest,
}

// Status is the HTTP status AWS answers the code with: the table above
// for IAM's codes, query.Code.Status for the protocol's.
func (c Code) Status() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return query.Code(c).Status()
}

// Error is a refusal the caller must see: an IAM code and a message safe
// to show (AWS's wording where AWS has one). Match a family with
// errors.Is(err, iam.ErrNoSuchEntity) and friends.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is matches the sentinel of e's code (a sentinel is an *Error without a
// message).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels, one per code, for errors.Is.
var (
	ErrNoSuchEntity            = &Error{Code: NoSuchEntity}
	ErrEntityAlreadyExists     = &Error{Code: EntityAlreadyExists}
	ErrDeleteConflict          = &Error{Code: DeleteConflict}
	ErrLimitExceeded           = &Error{Code: LimitExceeded}
	ErrMalformedPolicyDocument = &Error{Code: MalformedPolicyDocument}
	ErrInvalidInput            = &Error{Code: InvalidInput}
	ErrValidation              = &Error{Code: ValidationError}
	ErrUnmodifiableEntity      = &Error{Code: UnmodifiableEntity}
	ErrAccessDenied            = &Error{Code: AccessDenied}
)

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
