package cognitoapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// TestAPI_Authorization checks that each signed operation asks the access
// layer about its IAM action on the pool's ARN, that a refusal is
// AccessDeniedException and changes nothing, and that the unsigned ones
// need no signature.
func TestAPI_Authorization(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pool := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{AllowUnauthenticatedIdentities: true, DeveloperProviderName: aws.String("dev")})
	authRole, _ := h.poolRoles(t, pool)
	arn := "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/" + pool

	// Denied: every signed operation, with the action and resource asked.
	denied := []struct {
		call func() error
		ask  string
	}{
		{func() error {
			_, err := h.user.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("x")})
			return err
		}, "cognito-identity:CreateIdentityPool *"},
		{func() error {
			_, err := h.user.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(5)})
			return err
		}, "cognito-identity:ListIdentityPools *"},
		{func() error {
			_, err := h.user.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
			return err
		}, "cognito-identity:DescribeIdentityPool " + arn},
		{func() error {
			_, err := h.user.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String("x")})
			return err
		}, "cognito-identity:UpdateIdentityPool " + arn},
		{func() error {
			_, err := h.user.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(pool)})
			return err
		}, "cognito-identity:DeleteIdentityPool " + arn},
		{func() error {
			_, err := h.user.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool)})
			return err
		}, "cognito-identity:GetIdentityPoolRoles " + arn},
		{func() error {
			_, err := h.user.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool), Roles: map[string]string{}})
			return err
		}, "cognito-identity:SetIdentityPoolRoles " + arn},
		{func() error {
			_, err := h.user.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(pool), MaxResults: aws.Int32(5)})
			return err
		}, "cognito-identity:ListIdentities " + arn},
		{func() error {
			_, err := h.user.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{"dev": "u"}})
			return err
		}, "cognito-identity:GetOpenIdTokenForDeveloperIdentity " + arn},
	}
	for _, d := range denied {
		apiErr(t, d.call(), "AccessDeniedException", "is not authorized to perform: ")
		if asked := h.asked(); asked[len(asked)-1] != d.ask {
			t.Fatalf("Authorize asked %q, want %q", asked[len(asked)-1], d.ask)
		}
	}
	// Nothing changed: still one pool, with its name and roles.
	if d, err := h.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)}); err != nil || aws.ToString(d.IdentityPoolName) != "app pool" {
		t.Fatalf("pool after denied calls: %+v, %v", d, err)
	}

	// Allowed to set roles but not to pass the role: AWS's answer.
	h.allow("cognito-identity:SetIdentityPoolRoles")
	_, err := h.user.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool), Roles: map[string]string{"authenticated": authRole}})
	apiErr(t, err, "NotAuthorizedException", "Access to Role '"+authRole+"' is forbidden.")
	h.allow("iam:PassRole")
	if _, err := h.user.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool), Roles: map[string]string{"authenticated": authRole}}); err != nil {
		t.Fatalf("SetIdentityPoolRoles with PassRole: %v", err)
	}
	if asked := h.asked(); !slices.Contains(asked, "iam:PassRole "+authRole) {
		t.Fatalf("Authorize was not asked for iam:PassRole: %v", asked)
	}

	// DescribeIdentity and DeleteIdentities are decided on the identity's
	// pool; a refused delete is reported as unprocessed, not done.
	guest, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.user.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: guest.IdentityId})
	apiErr(t, err, "AccessDeniedException", "cognito-identity:DescribeIdentity on resource: "+arn)
	del, err := h.user.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{aws.ToString(guest.IdentityId)}})
	if err != nil || len(del.UnprocessedIdentityIds) != 1 || del.UnprocessedIdentityIds[0].ErrorCode != "AccessDenied" {
		t.Fatalf("DeleteIdentities denied = %+v, %v", del, err)
	}
	if _, err := h.admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: guest.IdentityId}); err != nil {
		t.Fatalf("identity after a denied delete: %v", err)
	}
	h.allow("cognito-identity:DeleteIdentities")
	del, err = h.user.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{aws.ToString(guest.IdentityId)}})
	if err != nil || len(del.UnprocessedIdentityIds) != 0 {
		t.Fatalf("DeleteIdentities allowed = %+v, %v", del, err)
	}
	_, err = h.admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: guest.IdentityId})
	apiErr(t, err, "ResourceNotFoundException", "")

	// Signed operations refuse unsigned calls.
	_, err = h.anon.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	apiErr(t, err, "MissingAuthenticationTokenException", "")
}
