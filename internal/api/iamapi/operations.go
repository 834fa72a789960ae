package iamapi

import "github.com/moat-iot/moat/internal/iam"

// iamOperations are the IAM actions served, by Action name.
var iamOperations = map[string]operation{
	"CreateUser":      op(createUser),
	"GetUser":         op(getUser),
	"ListUsers":       op(listUsers),
	"DeleteUser":      op(deleteUser),
	"CreateAccessKey": op(createAccessKey),
	"ListAccessKeys":  op(listAccessKeys),
	"UpdateAccessKey": op(updateAccessKey),
	"DeleteAccessKey": op(deleteAccessKey),

	"PutUserPolicy":            decodeEntity(putEntityPolicy, iam.UserEntity),
	"GetUserPolicy":            decodeEntity(getEntityPolicy, iam.UserEntity),
	"DeleteUserPolicy":         decodeEntity(deleteEntityPolicy, iam.UserEntity),
	"ListUserPolicies":         decodeEntity(listEntityPolicies, iam.UserEntity),
	"AttachUserPolicy":         decodeEntity(attachEntityPolicy, iam.UserEntity),
	"DetachUserPolicy":         decodeEntity(detachEntityPolicy, iam.UserEntity),
	"ListAttachedUserPolicies": decodeEntity(listAttachedPolicies, iam.UserEntity),

	"CreatePolicy":            op(createPolicy),
	"GetPolicy":               op(getPolicy),
	"DeletePolicy":            op(deletePolicy),
	"ListPolicies":            op(listPolicies),
	"CreatePolicyVersion":     op(createPolicyVersion),
	"GetPolicyVersion":        op(getPolicyVersion),
	"ListPolicyVersions":      op(listPolicyVersions),
	"DeletePolicyVersion":     op(deletePolicyVersion),
	"SetDefaultPolicyVersion": op(setDefaultPolicyVersion),

	"CreateRole":             op(createRole),
	"GetRole":                op(getRole),
	"ListRoles":              op(listRoles),
	"DeleteRole":             op(deleteRole),
	"UpdateAssumeRolePolicy": op(updateAssumeRolePolicy),

	"PutRolePolicy":            decodeEntity(putEntityPolicy, iam.RoleEntity),
	"GetRolePolicy":            decodeEntity(getEntityPolicy, iam.RoleEntity),
	"DeleteRolePolicy":         decodeEntity(deleteEntityPolicy, iam.RoleEntity),
	"ListRolePolicies":         decodeEntity(listEntityPolicies, iam.RoleEntity),
	"AttachRolePolicy":         decodeEntity(attachEntityPolicy, iam.RoleEntity),
	"DetachRolePolicy":         decodeEntity(detachEntityPolicy, iam.RoleEntity),
	"ListAttachedRolePolicies": decodeEntity(listAttachedPolicies, iam.RoleEntity),
}

// stsOperations are the STS actions served.
var stsOperations = map[string]operation{
	"GetCallerIdentity": op(getCallerIdentity),
	"AssumeRole":        op(assumeRole),
}
