package iamapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	allowIoT   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	allowThing = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"iot:CreateThing\", \"Resource\": \"*\"}]\n}"
)

// unescape decodes a policy document as IAM returns it.
func unescape(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(s), err)
	}
	return d
}

// TestAPI_UserPolicies puts, reads, lists and deletes inline policies;
// documents come back URL-encoded, byte for byte.
func TestAPI_UserPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	e.user("alice")
	for _, name := range []string{"things", "iot"} {
		doc := allowThing
		if name == "iot" {
			doc = allowIoT
		}
		if _, err := c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetUserPolicy(ctx, &iamsdk.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("things")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.UserName) != "alice" || aws.ToString(got.PolicyName) != "things" || unescape(t, got.PolicyDocument) != allowThing {
		t.Fatalf("GetUserPolicy = %+v", got)
	}
	if strings.ContainsAny(aws.ToString(got.PolicyDocument), "{\" +") {
		t.Fatalf("document not encoded: %s", aws.ToString(got.PolicyDocument))
	}
	list, err := c.ListUserPolicies(ctx, &iamsdk.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || strings.Join(list.PolicyNames, ",") != "iot,things" || list.IsTruncated {
		t.Fatalf("ListUserPolicies = %+v, %v", list, err)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iamsdk.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("iot")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUserPolicy(ctx, &iamsdk.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("iot")})
	apiErr(t, err, "NoSuchEntity", 404)
	_, err = c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	apiErr(t, err, "MalformedPolicyDocument", 400)
	var malformed *types.MalformedPolicyDocumentException
	if !errorsAs(err, &malformed) || !strings.Contains(aws.ToString(malformed.Message), "Action") {
		t.Fatalf("malformed error = %v", err)
	}
	_, err = c.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("big"),
		PolicyDocument: aws.String(`{"Statement":{"Sid":"` + strings.Repeat("x", 2100) + `","Effect":"Allow","Action":"iot:*","Resource":"*"}}`)})
	apiErr(t, err, "LimitExceeded", 409)
	list, _ = c.ListUserPolicies(ctx, &iamsdk.ListUserPoliciesInput{UserName: aws.String("alice")})
	if strings.Join(list.PolicyNames, ",") != "things" {
		t.Fatalf("policies after refusals = %v", list.PolicyNames)
	}
}

// TestAPI_ManagedPolicies runs a customer managed policy through its
// versions and attachments, and reads the AWS managed ones.
func TestAPI_ManagedPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.admin()
	e.user("alice")
	cp, err := c.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("things"), Path: aws.String("/iot/"),
		PolicyDocument: aws.String(allowThing), Description: aws.String("make things"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	p := cp.Policy
	arn := "arn:aws:iam::000000000000:policy/iot/things"
	if aws.ToString(p.Arn) != arn || aws.ToString(p.DefaultVersionId) != "v1" || !p.IsAttachable || aws.ToInt32(p.AttachmentCount) != 0 ||
		aws.ToString(p.Description) != "make things" || p.CreateDate == nil || len(p.Tags) != 1 {
		t.Fatalf("CreatePolicy = %+v", p)
	}
	_, err = c.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("THINGS"), PolicyDocument: aws.String(allowThing)})
	apiErr(t, err, "EntityAlreadyExists", 409)

	v2, err := c.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allowIoT), SetAsDefault: true})
	if err != nil || aws.ToString(v2.PolicyVersion.VersionId) != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion = %+v, %v", v2, err)
	}
	gv, err := c.GetPolicyVersion(ctx, &iamsdk.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	if err != nil || unescape(t, gv.PolicyVersion.Document) != allowThing || gv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion = %+v, %v", gv, err)
	}
	lv, err := c.ListPolicyVersions(ctx, &iamsdk.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(lv.Versions) != 2 || aws.ToString(lv.Versions[0].VersionId) != "v2" {
		t.Fatalf("ListPolicyVersions = %+v, %v", lv, err)
	}
	_, err = c.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	apiErr(t, err, "DeleteConflict", 409)
	if _, err := c.SetDefaultPolicyVersion(ctx, &iamsdk.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := c.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allowIoT)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allowIoT)})
	apiErr(t, err, "LimitExceeded", 409)

	for _, a := range []string{arn, "arn:aws:iam::aws:policy/AWSIoTDataAccess"} {
		if _, err := c.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
	att, err := c.ListAttachedUserPolicies(ctx, &iamsdk.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || len(att.AttachedPolicies) != 2 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != arn ||
		aws.ToString(att.AttachedPolicies[1].PolicyName) != "AWSIoTDataAccess" {
		t.Fatalf("ListAttachedUserPolicies = %+v, %v", att, err)
	}
	gp, err := c.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToInt32(gp.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy = %+v, %v", gp, err)
	}
	_, err = c.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)})
	apiErr(t, err, "DeleteConflict", 409)
	_, err = c.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::000000000000:policy/none")})
	apiErr(t, err, "NoSuchEntity", 404)
	_, err = c.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iot:us-east-1:000000000000:policy/x")})
	apiErr(t, err, "InvalidInput", 400)
	if _, err := c.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(arn)})
	apiErr(t, err, "NoSuchEntity", 404)
	// AWS managed policies: listed, readable, unchangeable.
	aws4, err := c.ListPolicies(ctx, &iamsdk.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if err != nil || len(aws4.Policies) != 4 {
		t.Fatalf("ListPolicies AWS = %+v, %v", aws4, err)
	}
	attached, err := c.ListPolicies(ctx, &iamsdk.ListPoliciesInput{OnlyAttached: true})
	if err != nil || len(attached.Policies) != 1 || aws.ToString(attached.Policies[0].PolicyName) != "AWSIoTDataAccess" {
		t.Fatalf("ListPolicies OnlyAttached = %+v, %v", attached, err)
	}
	local, err := c.ListPolicies(ctx, &iamsdk.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})
	if err != nil || len(local.Policies) != 1 || aws.ToString(local.Policies[0].Arn) != arn {
		t.Fatalf("ListPolicies Local = %+v, %v", local, err)
	}
	const data = "arn:aws:iam::aws:policy/AWSIoTDataAccess"
	dp, err := c.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(data)})
	if err != nil || aws.ToString(dp.Policy.PolicyName) != "AWSIoTDataAccess" || aws.ToInt32(dp.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy AWSIoTDataAccess = %+v, %v", dp, err)
	}
	dv, err := c.GetPolicyVersion(ctx, &iamsdk.GetPolicyVersionInput{PolicyArn: aws.String(data), VersionId: dp.Policy.DefaultVersionId})
	if err != nil || !strings.Contains(unescape(t, dv.PolicyVersion.Document), `"iot:Publish"`) {
		t.Fatalf("GetPolicyVersion AWSIoTDataAccess = %+v, %v", dv, err)
	}
	_, err = c.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(data)})
	apiErr(t, err, "UnmodifiableEntity", 400)
	_, err = c.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(data), PolicyDocument: aws.String(allowIoT)})
	apiErr(t, err, "UnmodifiableEntity", 400)

	_, err = c.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)})
	apiErr(t, err, "DeleteConflict", 409) // versions besides the default remain
	versions, err := c.ListPolicyVersions(ctx, &iamsdk.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions.Versions {
		if !v.IsDefaultVersion {
			if _, err := c.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: v.VersionId}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := c.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(arn)})
	apiErr(t, err, "NoSuchEntity", 404)

}
