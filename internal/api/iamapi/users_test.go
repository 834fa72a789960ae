package iamapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestAPI_Users drives the user operations through the SDK's iam client.
func TestAPI_Users(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()

	out, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/ops/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("lamps")}}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::000000000000:user/ops/alice" || aws.ToString(u.Path) != "/ops/" ||
		!strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || u.CreateDate == nil || len(u.Tags) != 1 || aws.ToString(u.Tags[0].Value) != "lamps" {
		t.Fatalf("CreateUser = %+v", u)
	}
	_, err = c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("Alice")})
	apiErr(t, err, "EntityAlreadyExists", 409)
	var exists *types.EntityAlreadyExistsException
	if !errorsAs(err, &exists) {
		t.Fatalf("the SDK did not type the error: %T", err)
	}

	got, err := c.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("alice")})
	if err != nil || aws.ToString(got.User.UserId) != aws.ToString(u.UserId) || !got.User.CreateDate.Equal(*u.CreateDate) {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	self, err := c.GetUser(ctx, &iamsdk.GetUserInput{})
	if err != nil || aws.ToString(self.User.UserName) != "admin" {
		t.Fatalf("GetUser without a name = %+v, %v", self, err)
	}
	_, err = c.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("nobody")})
	apiErr(t, err, "NoSuchEntity", 404)
	var noSuch *types.NoSuchEntityException
	if !errorsAs(err, &noSuch) {
		t.Fatalf("the SDK did not type the error: %T", err)
	}

	for _, n := range []string{"bob", "carol"} {
		if _, err := c.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pager := iamsdk.NewListUsersPaginator(c, &iamsdk.ListUsersInput{MaxItems: aws.Int32(2)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Users) > 2 {
			t.Fatalf("page of %d users", len(page.Users))
		}
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if strings.Join(names, ",") != "admin,alice,bob,carol" {
		t.Fatalf("ListUsers = %v", names)
	}
	ops, err := c.ListUsers(ctx, &iamsdk.ListUsersInput{PathPrefix: aws.String("/ops")})
	if err != nil || len(ops.Users) != 1 || ops.IsTruncated {
		t.Fatalf("ListUsers /ops = %+v, %v", ops, err)
	}

	if _, err := c.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("carol")})
	apiErr(t, err, "NoSuchEntity", 404)
	_, err = c.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("admin")})
	apiErr(t, err, "UnmodifiableEntity", 400)
}

// TestAPI_AccessKeys: a new key signs requests at once; made Inactive or
// deleted it no longer does; the admin's key is protected.
func TestAPI_AccessKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	_, id, secret := e.user("alice")
	who, err := e.stsAs(id, secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::000000000000:user/alice" {
		t.Fatalf("GetCallerIdentity with the new key = %+v, %v", who, err)
	}
	k2, err := c.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("alice")})
	apiErr(t, err, "LimitExceeded", 409)
	list, err := c.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(list.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys = %+v, %v", list, err)
	}
	for _, k := range list.AccessKeyMetadata {
		if k.Status != types.StatusTypeActive || aws.ToString(k.UserName) != "alice" || k.CreateDate == nil {
			t.Fatalf("key metadata = %+v", k)
		}
	}

	if _, err := c.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = e.stsAs(id, secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	if _, err := c.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: types.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stsAs(id, secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("re-activated key: %v", err)
	}
	if _, err := c.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.stsAs(id, secret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	_, err = c.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id)})
	apiErr(t, err, "NoSuchEntity", 404)
	_, err = c.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("alice")})
	apiErr(t, err, "DeleteConflict", 409)
	if _, err := c.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}

	// The admin's key: no UserName means the caller's own key.
	_, err = c.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{AccessKeyId: aws.String(e.adminKey), Status: types.StatusTypeInactive})
	apiErr(t, err, "UnmodifiableEntity", 400)
	_, err = c.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{AccessKeyId: aws.String(e.adminKey)})
	apiErr(t, err, "UnmodifiableEntity", 400)
	own, err := c.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{})
	if err != nil || len(own.AccessKeyMetadata) != 1 || aws.ToString(own.AccessKeyMetadata[0].AccessKeyId) != e.adminKey {
		t.Fatalf("admin's keys = %+v, %v", own, err)
	}
	if _, err := c.GetUser(ctx, &iamsdk.GetUserInput{}); err != nil {
		t.Fatalf("the admin key stopped working: %v", err)
	}
}

// TestAPI_SelfService: a user allowed iam:*AccessKey* on its own ARN
// (${aws:username}) manages its keys without naming itself, and nobody
// else's.
func TestAPI_SelfService(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _, _ := e.user("alice")
	e.user("bob")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:*AccessKey*"],"Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`
	if _, err := e.admin().PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("self"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	me, err := alice.GetUser(ctx, &iamsdk.GetUserInput{})
	if err != nil || aws.ToString(me.User.UserName) != "alice" {
		t.Fatalf("GetUser as alice = %+v, %v", me, err)
	}
	if e.lastAsked() != (authzCall{"iam:GetUser", "arn:aws:iam::000000000000:user/alice"}) {
		t.Fatalf("asked %+v", e.lastAsked())
	}
	k, err := alice.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{})
	if err != nil || aws.ToString(k.AccessKey.UserName) != "alice" {
		t.Fatalf("CreateAccessKey as alice = %+v, %v", k, err)
	}
	_, err = alice.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("bob")})
	apiErr(t, err, "AccessDenied", 403)
	_, err = alice.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("bob")})
	apiErr(t, err, "AccessDenied", 403)
	_, err = alice.ListUsers(ctx, &iamsdk.ListUsersInput{})
	apiErr(t, err, "AccessDenied", 403)
}
