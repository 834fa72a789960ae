package iam

import (
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/policy"
)

// TestService_Roles creates, finds, lists, updates and deletes roles.
func TestService_Roles(t *testing.T) {
	f := newFixture(t)
	r, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "Builder", Path: "/ci/", TrustPolicy: trustAccount,
		Description: "builds", MaxSessionDuration: 2 * time.Hour, Tags: []Tag{{"team", "ci"}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::000000000000:role/ci/Builder"
	if r.ARN != arn || !strings.HasPrefix(r.ID, "AROA") || r.MaxSessionDuration != 2*time.Hour || r.TrustPolicy != trustAccount {
		t.Fatalf("CreateRole = %+v", r)
	}
	_, err = f.CreateRole(ctx, CreateRoleInput{RoleName: "builder", TrustPolicy: trustAccount})
	wantCode(t, err, EntityAlreadyExists)
	got, err := f.Role(ctx, "BUILDER")
	if err != nil || got.ID != r.ID || got.Description != "builds" {
		t.Fatalf("Role = %+v, %v", got, err)
	}
	if got, err := f.RoleByARN(ctx, arn); err != nil || got.ID != r.ID {
		t.Fatalf("RoleByARN = %+v, %v", got, err)
	}
	for _, bad := range []string{
		"arn:aws:iam::000000000000:role/Builder",     // path missing
		"arn:aws:iam::111111111111:role/ci/Builder",  // another account
		"arn:aws:iam::000000000000:user/ci/Builder",  // not a role
		"arn:aws:iam::000000000000:role/ci/builder",  // another spelling
		"arn:aws:iam::000000000000:role/ci/Nobody",   // unknown
		"arn:aws:iam::000000000000:role/ci/Bad Name", // invalid
	} {
		_, err := f.RoleByARN(ctx, bad)
		wantCode(t, err, NoSuchEntity)
	}
	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "deployer", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	roles, next, err := f.ListRoles(ctx, ListRolesInput{})
	if err != nil || next != "" || len(roles) != 2 || roles[0].Name != "Builder" || roles[1].Name != "deployer" {
		t.Fatalf("ListRoles = %+v, %q, %v", roles, next, err)
	}
	roles, _, err = f.ListRoles(ctx, ListRolesInput{PathPrefix: "/ci/"})
	if err != nil || len(roles) != 1 {
		t.Fatalf("ListRoles /ci/ = %+v, %v", roles, err)
	}
	page, next, err := f.ListRoles(ctx, ListRolesInput{Page: Page{MaxItems: 1}})
	if err != nil || len(page) != 1 || next == "" {
		t.Fatalf("first page = %+v, %q, %v", page, next, err)
	}

	trustAlice := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}}`
	f.changes()
	if err := f.UpdateAssumeRolePolicy(ctx, "builder", trustAlice); err != nil {
		t.Fatal(err)
	}
	if c := f.changes(); len(c) != 1 || c[0] != (Change{RoleName: "Builder"}) {
		t.Fatalf("changes = %+v", c)
	}
	got, _ = f.Role(ctx, "Builder")
	if got.TrustPolicy != trustAlice || got.Trusts(policy.PrincipalAWS, "arn:aws:iam::000000000000:user/bob", nil) {
		t.Fatalf("trust after update = %q", got.TrustPolicy)
	}
	wantCode(t, f.UpdateAssumeRolePolicy(ctx, "builder", allowAll), MalformedPolicyDocument)
	wantCode(t, f.UpdateAssumeRolePolicy(ctx, "nobody", trustAlice), NoSuchEntity)

	if err := f.PutPolicy(ctx, RoleEntity, "Builder", "p", allowIoT); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, RoleEntity, "Builder", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.DeleteRole(ctx, "Builder"), DeleteConflict)
	if err := f.DeleteInlinePolicy(ctx, RoleEntity, "Builder", "p"); err != nil {
		t.Fatal(err)
	}
	err = f.DeleteRole(ctx, "Builder")
	if wantCode(t, err, DeleteConflict); !strings.Contains(err.Error(), "detach") {
		t.Fatalf("err = %v", err)
	}
	if err := f.DetachPolicy(ctx, RoleEntity, "Builder", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteRole(ctx, "builder"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Role(ctx, "Builder")
	wantCode(t, err, NoSuchEntity)
}

// TestService_CreateRoleValidation refuses bad roles.
func TestService_CreateRoleValidation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxRoles = 1 })
	tests := map[string]struct {
		in   CreateRoleInput
		code Code
	}{
		"no trust":            {CreateRoleInput{RoleName: "r"}, ValidationError},
		"identity doc":        {CreateRoleInput{RoleName: "r", TrustPolicy: allowAll}, MalformedPolicyDocument},
		"trust with resource": {CreateRoleInput{RoleName: "r", TrustPolicy: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}`}, MalformedPolicyDocument},
		"wildcard principal":  {CreateRoleInput{RoleName: "r", TrustPolicy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/*"},"Action":"sts:AssumeRole"}}`}, MalformedPolicyDocument},
		"trust too long":      {CreateRoleInput{RoleName: "r", TrustPolicy: `{"Statement":{"Sid":"` + strings.Repeat("s", 2000) + `","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`}, LimitExceeded},
		"session too short":   {CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount, MaxSessionDuration: 30 * time.Minute}, ValidationError},
		"session too long":    {CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount, MaxSessionDuration: 13 * time.Hour}, ValidationError},
		"name too long":       {CreateRoleInput{RoleName: strings.Repeat("r", 65), TrustPolicy: trustAccount}, ValidationError},
		"description long":    {CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount, Description: strings.Repeat("d", 1001)}, ValidationError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.CreateRole(ctx, tc.in)
			wantCode(t, err, tc.code)
		})
	}
	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	_, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "r2", TrustPolicy: trustAccount})
	wantCode(t, err, LimitExceeded)
}

// TestRole_Trusts answers the three kinds of trust the issuers of
// temporary credentials ask about.
func TestRole_Trusts(t *testing.T) {
	f := newFixture(t)
	trust := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity",
	  "Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"unauthenticated"}}},
	 {"Effect":"Allow","Principal":{"Service":"credentials.iot.amazonaws.com"},"Action":"sts:AssumeRole"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}]}`
	r, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "app", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	cognito := func(aud, amr string) *policy.Vars {
		var v policy.Vars
		v.Set("cognito-identity.amazonaws.com:aud", aud)
		v.Set("cognito-identity.amazonaws.com:amr", amr)
		return &v
	}
	tests := []struct {
		name, typ, principal string
		vars                 *policy.Vars
		want                 bool
	}{
		{"cognito, right pool", policy.PrincipalFederated, "cognito-identity.amazonaws.com", cognito("us-east-1:pool", "unauthenticated"), true},
		{"cognito, other pool", policy.PrincipalFederated, "cognito-identity.amazonaws.com", cognito("us-east-1:other", "unauthenticated"), false},
		{"cognito, authenticated", policy.PrincipalFederated, "cognito-identity.amazonaws.com", cognito("us-east-1:pool", "authenticated"), false},
		{"cognito, no keys", policy.PrincipalFederated, "cognito-identity.amazonaws.com", nil, false},
		{"credentials provider", policy.PrincipalService, "credentials.iot.amazonaws.com", nil, true},
		{"other service", policy.PrincipalService, "lambda.amazonaws.com", nil, false},
		{"alice", policy.PrincipalAWS, "arn:aws:iam::000000000000:user/alice", nil, true},
		{"bob", policy.PrincipalAWS, "arn:aws:iam::000000000000:user/bob", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Trusts(tc.typ, tc.principal, tc.vars); got != tc.want {
				t.Fatalf("Trusts = %v, want %v", got, tc.want)
			}
		})
	}
	if (Role{}).Trusts(policy.PrincipalAWS, "arn:aws:iam::000000000000:user/alice", nil) {
		t.Fatal("a role without a trust policy trusts someone")
	}
}
