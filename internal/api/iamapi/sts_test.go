package iamapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/moat-iot/moat/internal/auth"
)

// TestAPI_GetCallerIdentity names the admin, a user and needs no
// permission.
func TestAPI_GetCallerIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.stsAs(e.adminKey, e.adminSecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::000000000000:user/admin" || aws.ToString(id.Account) != account ||
		!strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Fatalf("admin = %+v, %v", id, err)
	}
	_, key, secret := e.user("alice") // no policies at all
	id, err = e.stsAs(key, secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::000000000000:user/alice" {
		t.Fatalf("alice = %+v, %v", id, err)
	}
	_, err = e.stsAs(key, "wrong-secret-wrong-secret-wrong-secret-00", "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "SignatureDoesNotMatch", 403)
	_, err = e.stsAs("AKIAAAAAAAAAAAAAAAAA", secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
}

// TestAPI_AssumeRole: a user allowed sts:AssumeRole by its identity
// policy, and trusted by the role, gets credentials that work and act
// with the role's permissions; refusals by either side are AccessDenied.
func TestAPI_AssumeRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	_, aliceKey, aliceSecret := e.user("alice")
	_, bobKey, bobSecret := e.user("bob")
	trust := `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/alice","arn:aws:iam::000000000000:user/carol"]},"Action":"sts:AssumeRole"}}`
	role, err := c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	if _, err := c.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	assume := `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}}`
	for _, u := range []string{"alice", "bob"} {
		if _, err := c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u), PolicyName: aws.String("assume"), PolicyDocument: aws.String(assume)}); err != nil {
			t.Fatal(err)
		}
	}

	out, err := e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
		RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900), Tags: []ststypes.Tag{{Key: aws.String("job"), Value: aws.String("7")}}})
	if err != nil {
		t.Fatal(err)
	}
	if e.lastAsked() != (authzCall{"sts:AssumeRole", roleARN}) {
		t.Fatalf("asked %+v", e.lastAsked())
	}
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" ||
		cr.Expiration.Sub(time.Now()) > 15*time.Minute || cr.Expiration.Sub(time.Now()) < 14*time.Minute {
		t.Fatalf("credentials = %+v", cr)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::000000000000:assumed-role/reader/s1" ||
		aws.ToString(out.AssumedRoleUser.AssumedRoleId) != aws.ToString(role.Role.RoleId)+":s1" {
		t.Fatalf("AssumedRoleUser = %+v", out.AssumedRoleUser)
	}
	key, secret, token := aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)
	who, err := e.stsAs(key, secret, token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::000000000000:assumed-role/reader/s1" ||
		aws.ToString(who.UserId) != aws.ToString(role.Role.RoleId)+":s1" {
		t.Fatalf("GetCallerIdentity as the session = %+v, %v", who, err)
	}
	// The session acts with the role's permissions, not alice's.
	if _, err := e.iamAs(key, secret, token).ListRoles(ctx, &iamsdk.ListRolesInput{}); err != nil {
		t.Fatalf("ListRoles as the session: %v", err)
	}
	_, err = e.iamAs(key, secret, token).ListUsers(ctx, &iamsdk.ListUsersInput{})
	apiErr(t, err, "AccessDenied", 403)
	// A session token with another key id is refused.
	_, err = e.stsAs(key, secret, "x"+token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	other, err := e.auth.Mint(ctx, auth.Session{RoleName: "reader", SessionName: "o", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.stsAs(key, secret, other.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)

	// bob is allowed by his policy but not trusted by the role.
	_, err = e.stsAs(bobKey, bobSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
	apiErr(t, err, "AccessDenied", 403)
	// carol is trusted but her identity policies do not allow it.
	_, carolKey, carolSecret := e.user("carol")
	_, err = e.stsAs(carolKey, carolSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
	apiErr(t, err, "AccessDenied", 403)
	// An unknown role looks like an untrusting one.
	_, err = e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/ghost"), RoleSessionName: aws.String("s1")})
	apiErr(t, err, "AccessDenied", 403)
	_, err = e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)})
	apiErr(t, err, "ValidationError", 400)
	// An explicit 0 is out of range, not the default.
	_, err = e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(0)})
	apiErr(t, err, "ValidationError", 400)
	_, err = e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), Policy: aws.String(allowIoT)})
	apiErr(t, err, "ValidationError", 400)
	_, err = e.stsAs(aliceKey, aliceSecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"),
		PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/AWSIoTDataAccess")}}})
	apiErr(t, err, "ValidationError", 400)

	// Deleting the role's policy bites at once: permissions are read per
	// request.
	if _, err := c.DeleteRolePolicy(ctx, &iamsdk.DeleteRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iamAs(key, secret, token).ListRoles(ctx, &iamsdk.ListRolesInput{})
	apiErr(t, err, "AccessDenied", 403)
}

// TestAPI_ExpiredCredentials: temporary credentials past their
// expiration are refused with ExpiredToken.
func TestAPI_ExpiredCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	cr, err := e.auth.Mint(ctx, auth.Session{RoleName: "reader", SessionName: "old", IssuedAt: past.Add(-time.Hour), Expiration: past})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.stsAs(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "ExpiredToken", 403)
	// A valid session of a role that does not exist (deleted) still knows
	// who it is, but may do nothing.
	live, err := e.auth.Mint(ctx, auth.Session{RoleName: "gone", SessionName: "s", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	who, err := e.stsAs(live.AccessKeyID, live.SecretAccessKey, live.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::000000000000:assumed-role/gone/s" {
		t.Fatalf("GetCallerIdentity = %+v, %v", who, err)
	}
	_, err = e.iamAs(live.AccessKeyID, live.SecretAccessKey, live.SessionToken).ListRoles(ctx, &iamsdk.ListRolesInput{})
	apiErr(t, err, "AccessDenied", 403)
}
