// Package iam is moat's subset of AWS Identity and Access Management and
// STS: the users who call the APIs with access keys, the roles whose
// temporary credentials apps and devices get, and the identity policies
// that say what either may do.
//
// # Model
//
//   - A user has a name (unique without regard to case), a path, up to
//     MaxAccessKeys access keys, inline policies and up to MaxAttached
//     attached managed policies. The administrator (auth.AdminUser)
//     exists from the first start; its data-dir access key is the root of
//     trust and can be neither deactivated nor deleted here, nor can the
//     user itself be deleted (UnmodifiableEntity).
//   - A role has a trust policy (who may assume it: Role.Trusts), a
//     maximum session duration, and inline and attached policies that
//     become the permissions of its sessions.
//   - A managed policy is customer managed (up to MaxVersions versions,
//     one of them the default) or one of the AWS managed policies for AWS
//     IoT (AWSIoTFullAccess, AWSIoTDataAccess, AWSIoTConfigAccess,
//     AWSIoTConfigReadOnlyAccess), which are built in and read-only.
//
// Validation follows IAM: names, paths and tags against the botocore
// model's constraints (ValidationError), policy documents against the
// IAM grammar of internal/policy (MalformedPolicyDocument) and IAM's size
// quotas counted without whitespace (LimitExceeded). Refusals are *Error
// values carrying IAM's code; a call that fails changes nothing: every
// change is one store transaction.
//
// # Permissions
//
// IdentityPolicies returns the compiled policies of a user or role
// session for policy.Evaluate; the access layer combines them with the
// request's condition keys. Permissions are never copied into
// credentials: temporary credentials name their role, and each request
// reads the role's policies as they are then. Config.OnChange reports
// every committed change so that live connections can be re-checked and
// the authenticator's access key cache emptied.
//
// # STS
//
// AssumeRole checks the role's trust policy against the caller (the
// caller's identity policies must already allow sts:AssumeRole: the API
// layer asks) and mints stateless credentials through Config.Minter.
// CallerIdentity answers GetCallerIdentity.
package iam
