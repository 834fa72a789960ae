package iamapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAPI_AuthorizesEveryOperation: each operation asks Authorize for its
// IAM action on the resource AWS's service authorization reference names
// (paths included), before doing anything; a caller without permissions
// gets AccessDenied for all of them and changes nothing.
func TestAPI_AuthorizesEveryOperation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	if _, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/ops/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("builder"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(trustAccount)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("things"), Path: aws.String("/iot/"), PolicyDocument: aws.String(allowThing)}); err != nil {
		t.Fatal(err)
	}
	_, bobKey, bobSecret := e.user("bob")

	const (
		user   = "arn:aws:iam::000000000000:user/ops/alice"
		role   = "arn:aws:iam::000000000000:role/ci/builder"
		pol    = "arn:aws:iam::000000000000:policy/iot/things"
		doc    = `{"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}`
		trust  = `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`
		iamVer = "2010-05-08"
	)
	tests := []struct {
		service, action string
		params          []string
		resource        string
	}{
		{"iam", "CreateUser", []string{"UserName", "carol", "Path", "/x/"}, "arn:aws:iam::000000000000:user/x/carol"},
		{"iam", "GetUser", []string{"UserName", "alice"}, user},
		{"iam", "GetUser", nil, "arn:aws:iam::000000000000:user/bob"},
		{"iam", "ListUsers", nil, "*"},
		{"iam", "DeleteUser", []string{"UserName", "alice"}, user},
		{"iam", "CreateAccessKey", []string{"UserName", "alice"}, user},
		{"iam", "ListAccessKeys", []string{"UserName", "alice"}, user},
		{"iam", "UpdateAccessKey", []string{"UserName", "alice", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA", "Status", "Inactive"}, user},
		{"iam", "DeleteAccessKey", []string{"UserName", "alice", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"}, user},
		{"iam", "PutUserPolicy", []string{"UserName", "alice", "PolicyName", "p", "PolicyDocument", doc}, user},
		{"iam", "GetUserPolicy", []string{"UserName", "alice", "PolicyName", "p"}, user},
		{"iam", "DeleteUserPolicy", []string{"UserName", "alice", "PolicyName", "p"}, user},
		{"iam", "ListUserPolicies", []string{"UserName", "alice"}, user},
		{"iam", "AttachUserPolicy", []string{"UserName", "alice", "PolicyArn", pol}, user},
		{"iam", "DetachUserPolicy", []string{"UserName", "alice", "PolicyArn", pol}, user},
		{"iam", "ListAttachedUserPolicies", []string{"UserName", "alice"}, user},
		{"iam", "CreatePolicy", []string{"PolicyName", "p2", "Path", "/iot/", "PolicyDocument", doc}, "arn:aws:iam::000000000000:policy/iot/p2"},
		{"iam", "GetPolicy", []string{"PolicyArn", pol}, pol},
		{"iam", "DeletePolicy", []string{"PolicyArn", pol}, pol},
		{"iam", "ListPolicies", nil, "*"},
		{"iam", "CreatePolicyVersion", []string{"PolicyArn", pol, "PolicyDocument", doc}, pol},
		{"iam", "GetPolicyVersion", []string{"PolicyArn", pol, "VersionId", "v1"}, pol},
		{"iam", "ListPolicyVersions", []string{"PolicyArn", pol}, pol},
		{"iam", "DeletePolicyVersion", []string{"PolicyArn", pol, "VersionId", "v1"}, pol},
		{"iam", "SetDefaultPolicyVersion", []string{"PolicyArn", pol, "VersionId", "v1"}, pol},
		{"iam", "CreateRole", []string{"RoleName", "r2", "AssumeRolePolicyDocument", trust}, "arn:aws:iam::000000000000:role/r2"},
		{"iam", "GetRole", []string{"RoleName", "builder"}, role},
		{"iam", "ListRoles", nil, "*"},
		{"iam", "DeleteRole", []string{"RoleName", "builder"}, role},
		{"iam", "UpdateAssumeRolePolicy", []string{"RoleName", "builder", "PolicyDocument", trust}, role},
		{"iam", "PutRolePolicy", []string{"RoleName", "builder", "PolicyName", "p", "PolicyDocument", doc}, role},
		{"iam", "GetRolePolicy", []string{"RoleName", "builder", "PolicyName", "p"}, role},
		{"iam", "DeleteRolePolicy", []string{"RoleName", "builder", "PolicyName", "p"}, role},
		{"iam", "ListRolePolicies", []string{"RoleName", "builder"}, role},
		{"iam", "AttachRolePolicy", []string{"RoleName", "builder", "PolicyArn", pol}, role},
		{"iam", "DetachRolePolicy", []string{"RoleName", "builder", "PolicyArn", pol}, role},
		{"iam", "ListAttachedRolePolicies", []string{"RoleName", "builder"}, role},
		{"sts", "AssumeRole", []string{"RoleArn", role, "RoleSessionName", "s1"}, role},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			version := iamVer
			if tc.service == "sts" {
				version = "2011-06-15"
			}
			body := form(append([]string{"Action", tc.action, "Version", version}, tc.params...)...)
			resp, b := e.postAs(bobKey, bobSecret, tc.service, body, nil)
			if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>AccessDenied</Code>") {
				t.Fatalf("got %d %s", resp.StatusCode, b)
			}
			want := authzCall{Action: tc.service + ":" + tc.action, Resource: tc.resource}
			if got := e.lastAsked(); got != want {
				t.Fatalf("asked %+v, want %+v", got, want)
			}
		})
	}
	// Nothing changed.
	users, _ := c.ListUsers(ctx, &iamsdk.ListUsersInput{})
	roles, _ := c.ListRoles(ctx, &iamsdk.ListRolesInput{})
	pols, _ := c.ListPolicies(ctx, &iamsdk.ListPoliciesInput{Scope: "Local"})
	if len(users.Users) != 3 || len(roles.Roles) != 1 || len(pols.Policies) != 1 {
		t.Fatalf("after refusals: %d users, %d roles, %d policies", len(users.Users), len(roles.Roles), len(pols.Policies))
	}
	// GetCallerIdentity asks nothing.
	before := e.askedCount()
	resp, b := e.postAs(bobKey, bobSecret, "sts", form("Action", "GetCallerIdentity", "Version", "2011-06-15"), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "user/bob") || e.askedCount() != before {
		t.Fatalf("GetCallerIdentity: %d %s", resp.StatusCode, b)
	}
}

// TestAPI_PolicyDecides: what a user may do follows its policies, and an
// explicit Deny in an inline policy beats an attached managed Allow.
func TestAPI_PolicyDecides(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	alice, _, _ := e.user("alice")
	_, err := alice.ListUsers(ctx, &iamsdk.ListUsersInput{})
	apiErr(t, err, "AccessDenied", 403)
	if _, err := c.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("iam-all"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::000000000000:policy/iam-all")}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ListUsers(ctx, &iamsdk.ListUsersInput{}); err != nil {
		t.Fatalf("allowed by the managed policy: %v", err)
	}
	if _, err := alice.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatalf("allowed by the managed policy: %v", err)
	}
	if _, err := c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("no-users"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Deny","Action":"iam:*User","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("erin")})
	apiErr(t, err, "AccessDenied", 403)
	if _, err := alice.ListUsers(ctx, &iamsdk.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers is not denied: %v", err)
	}
	// The admin may do anything, whatever its policies say.
	if _, err := c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("deny-all"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("erin")}); err != nil {
		t.Fatalf("the admin was refused: %v", err)
	}
}
