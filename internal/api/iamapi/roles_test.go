package iamapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
)

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`

// TestAPI_Roles drives the role operations through the SDK.
func TestAPI_Roles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	cr, err := c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("builder"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trustAccount), Description: aws.String("builds"), MaxSessionDuration: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	r := cr.Role
	arn := "arn:aws:iam::000000000000:role/ci/builder"
	if aws.ToString(r.Arn) != arn || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || aws.ToInt32(r.MaxSessionDuration) != 7200 ||
		unescape(t, r.AssumeRolePolicyDocument) != trustAccount || aws.ToString(r.Description) != "builds" {
		t.Fatalf("CreateRole = %+v", r)
	}
	_, err = c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("Builder"), AssumeRolePolicyDocument: aws.String(trustAccount)})
	apiErr(t, err, "EntityAlreadyExists", 409)
	_, err = c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(allowIoT)})
	apiErr(t, err, "MalformedPolicyDocument", 400)
	_, err = c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trustAccount), MaxSessionDuration: aws.Int32(60)})
	apiErr(t, err, "ValidationError", 400)
	// An explicit 0 is out of range, not the default.
	_, err = c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trustAccount), MaxSessionDuration: aws.Int32(0)})
	apiErr(t, err, "ValidationError", 400)

	g, err := c.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("builder")})
	if err != nil || aws.ToString(g.Role.RoleId) != aws.ToString(r.RoleId) || unescape(t, g.Role.AssumeRolePolicyDocument) != trustAccount {
		t.Fatalf("GetRole = %+v, %v", g, err)
	}
	_, err = c.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("nobody")})
	apiErr(t, err, "NoSuchEntity", 404)
	lr, err := c.ListRoles(ctx, &iamsdk.ListRolesInput{})
	if err != nil || len(lr.Roles) != 1 || aws.ToString(lr.Roles[0].RoleName) != "builder" {
		t.Fatalf("ListRoles = %+v, %v", lr, err)
	}
	trustAlice := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}}`
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iamsdk.UpdateAssumeRolePolicyInput{RoleName: aws.String("builder"), PolicyDocument: aws.String(trustAlice)}); err != nil {
		t.Fatal(err)
	}
	g, _ = c.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("builder")})
	if unescape(t, g.Role.AssumeRolePolicyDocument) != trustAlice {
		t.Fatalf("trust after update = %s", unescape(t, g.Role.AssumeRolePolicyDocument))
	}

	if _, err := c.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("iot"), PolicyDocument: aws.String(allowIoT)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetRolePolicy(ctx, &iamsdk.GetRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("iot")})
	if err != nil || aws.ToString(gp.RoleName) != "builder" || unescape(t, gp.PolicyDocument) != allowIoT {
		t.Fatalf("GetRolePolicy = %+v, %v", gp, err)
	}
	lp, err := c.ListRolePolicies(ctx, &iamsdk.ListRolePoliciesInput{RoleName: aws.String("builder")})
	if err != nil || strings.Join(lp.PolicyNames, ",") != "iot" {
		t.Fatalf("ListRolePolicies = %+v, %v", lp, err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSIoTFullAccess")}); err != nil {
		t.Fatal(err)
	}
	la, err := c.ListAttachedRolePolicies(ctx, &iamsdk.ListAttachedRolePoliciesInput{RoleName: aws.String("builder")})
	if err != nil || len(la.AttachedPolicies) != 1 || aws.ToString(la.AttachedPolicies[0].PolicyName) != "AWSIoTFullAccess" {
		t.Fatalf("ListAttachedRolePolicies = %+v, %v", la, err)
	}
	_, err = c.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String("builder")})
	apiErr(t, err, "DeleteConflict", 409)
	if _, err := c.DeleteRolePolicy(ctx, &iamsdk.DeleteRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("iot")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetachRolePolicy(ctx, &iamsdk.DetachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSIoTFullAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String("builder")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("builder")})
	apiErr(t, err, "NoSuchEntity", 404)
}
