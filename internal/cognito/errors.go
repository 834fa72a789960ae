package cognito

import (
	"fmt"

	"github.com/moat-iot/moat/internal/awsapi"
)

// Error codes of the cognito-identity API (botocore
// cognito-identity/2014-06-30). The awsJson 1.1 surface sends them as
// __type; every one is a client error except InternalError.
const (
	// InvalidParameter: a member is missing, malformed or out of range.
	InvalidParameter awsapi.Code = "InvalidParameterException"
	// NotAuthorized: a login did not prove the identity, guests are not
	// allowed, or the caller may not use the identity or role.
	NotAuthorized awsapi.Code = "NotAuthorizedException"
	// ResourceNotFound: no such pool or identity.
	ResourceNotFound awsapi.Code = "ResourceNotFoundException"
	// ResourceConflict: the logins belong to different identities.
	ResourceConflict awsapi.Code = "ResourceConflictException"
	// LimitExceeded: too many pools, or identities in a pool.
	LimitExceeded awsapi.Code = "LimitExceededException"
	// InvalidIdentityPoolConfiguration: the pool has no role for the
	// identity, the role does not exist, or it does not trust Cognito.
	InvalidIdentityPoolConfiguration awsapi.Code = "InvalidIdentityPoolConfigurationException"
	// DeveloperUserAlreadyRegistered: a developer user identifier is
	// linked to another identity than the one named.
	DeveloperUserAlreadyRegistered awsapi.Code = "DeveloperUserAlreadyRegisteredException"
	// ExternalService: an OpenID Connect issuer's keys could not be
	// fetched.
	ExternalService awsapi.Code = "ExternalServiceException"
	// InternalError: a server failure (never with its cause).
	InternalError awsapi.Code = "InternalErrorException"
)

func errorf(code awsapi.Code, format string, args ...any) *awsapi.Error {
	return &awsapi.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *awsapi.Error {
	return errorf(InvalidParameter, format, args...)
}

// notAuthorized is a refused login; cause (logged, never sent) says why
// in more detail than the message.
func notAuthorized(cause error, format string, args ...any) *awsapi.Error {
	e := errorf(NotAuthorized, format, args...)
	e.Cause = cause
	return e
}

func poolNotFound(id string) *awsapi.Error {
	return errorf(ResourceNotFound, "IdentityPool '%s' not found.", id)
}

func identityNotFound(id string) *awsapi.Error {
	return errorf(ResourceNotFound, "Identity '%s' not found.", id)
}

// badPoolConfig is AWS's answer when the role cannot be used.
func badPoolConfig(cause error) *awsapi.Error {
	return &awsapi.Error{Code: InvalidIdentityPoolConfiguration,
		Message: "Invalid identity pool configuration. Check assigned IAM roles for this pool.", Cause: cause}
}
