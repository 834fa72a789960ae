package cognitoapi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/moat-iot/moat/internal/cognito"
)

// TestAPI_PoolLifecycle walks an identity pool through every pool
// operation with the SDK: create, describe, update, list with paging,
// roles, delete.
func TestAPI_PoolLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	oidcARN := "arn:aws:iam::000000000000:oidc-provider/" + h.issuer.Name()
	created, err := h.admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("My pool"), AllowUnauthenticatedIdentities: true,
		DeveloperProviderName: aws.String("login.example"), OpenIdConnectProviderARNs: []string{oidcARN, oidcARN},
		SupportedLoginProviders: map[string]string{h.issuer.Name(): "web-client"},
		IdentityPoolTags:        map[string]string{"team": "a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.IdentityPoolId)
	if r, _, ok := strings.Cut(id, ":"); !ok || r != region || len(id) != len(region)+1+36 {
		t.Fatalf("IdentityPoolId = %q, want us-east-1:UUID", id)
	}
	// The duplicate provider ARN is kept once.
	if !slices.Equal(created.OpenIdConnectProviderARNs, []string{oidcARN}) || !created.AllowUnauthenticatedIdentities ||
		aws.ToString(created.DeveloperProviderName) != "login.example" || created.IdentityPoolTags["team"] != "a" {
		t.Fatalf("CreateIdentityPool = %+v", created)
	}

	d, err := h.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	if err != nil || aws.ToString(d.IdentityPoolName) != "My pool" || d.SupportedLoginProviders[h.issuer.Name()] != "web-client" {
		t.Fatalf("DescribeIdentityPool = %+v, %v", d, err)
	}

	// Update: guests off, the developer provider name kept when not sent,
	// tags kept when not sent.
	u, err := h.admin.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("Renamed"), AllowUnauthenticatedIdentities: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.IdentityPoolName) != "Renamed" || u.AllowUnauthenticatedIdentities || aws.ToString(u.DeveloperProviderName) != "login.example" || u.IdentityPoolTags["team"] != "a" {
		t.Fatalf("UpdateIdentityPool = %+v", u)
	}
	// The developer provider name cannot change once set.
	_, err = h.admin.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("Renamed"), DeveloperProviderName: aws.String("other"),
	})
	apiErr(t, err, "InvalidParameterException", "cannot be changed")

	// Roles.
	a, g := h.poolRoles(t, id)
	r, err := h.admin.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
	if err != nil || r.Roles["authenticated"] != a || r.Roles["unauthenticated"] != g || aws.ToString(r.IdentityPoolId) != id {
		t.Fatalf("GetIdentityPoolRoles = %+v, %v", r, err)
	}
	// A role that does not exist is refused, and the roles stay.
	_, err = h.admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(id), Roles: map[string]string{"authenticated": "arn:aws:iam::000000000000:role/nope"},
	})
	apiErr(t, err, "InvalidParameterException", "does not exist")
	_, err = h.admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(id), Roles: map[string]string{"authenticated": "arn:aws:iam::111111111111:role/app-auth"},
	})
	apiErr(t, err, "InvalidParameterException", "not a role of this account")
	_, err = h.admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(id), Roles: map[string]string{"admin": a},
	})
	apiErr(t, err, "InvalidParameterException", "authenticated or unauthenticated")
	if r, _ := h.admin.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)}); r.Roles["authenticated"] != a {
		t.Fatalf("roles changed by refused calls: %+v", r.Roles)
	}

	// ListIdentityPools pages one at a time.
	second := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{})
	var got []string
	in := &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)}
	for pages := 0; ; pages++ {
		out, err := h.admin.ListIdentityPools(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.IdentityPools) > 1 || pages > 3 {
			t.Fatalf("page of %d pools after %d pages", len(out.IdentityPools), pages)
		}
		for _, p := range out.IdentityPools {
			got = append(got, aws.ToString(p.IdentityPoolId))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	want := []string{id, second}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ListIdentityPools = %v, want %v", got, want)
	}

	// Delete: gone for every operation.
	if _, err := h.admin.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = h.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	apiErr(t, err, "ResourceNotFoundException", id)
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(id)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetId on a deleted pool = %v, want ResourceNotFoundException", err)
	}
	_, err = h.admin.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(id)})
	apiErr(t, err, "ResourceNotFoundException", "")
}

// TestAPI_PoolValidation checks that each malformed pool is refused with
// InvalidParameterException and creates nothing.
func TestAPI_PoolValidation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tests := map[string]struct {
		in  cognitoidentity.CreateIdentityPoolInput
		msg string
	}{
		// the name's pattern is [\w\s+=,.@-]+
		"bad name": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("a/b")}, "IdentityPoolName"},
		// an OIDC provider the operator did not configure
		"unknown oidc": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"),
			OpenIdConnectProviderARNs: []string{"arn:aws:iam::000000000000:oidc-provider/other.example.com"}}, "names no OpenID Connect provider"},
		// an OIDC provider ARN of another account
		"oidc other account": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"),
			OpenIdConnectProviderARNs: []string{"arn:aws:iam::111111111111:oidc-provider/issuer.example.com"}}, "not in this account"},
		// a supported login provider that is not configured
		"unknown login provider": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"),
			SupportedLoginProviders: map[string]string{"graph.facebook.com": "123"}}, "graph.facebook.com"},
		// user pools are not served
		"user pools": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"),
			CognitoIdentityProviders: []types.CognitoIdentityProvider{{ProviderName: aws.String("cognito-idp.us-east-1.amazonaws.com/us-east-1_x"), ClientId: aws.String("c")}}}, "not supported"},
		// the developer provider name's pattern is [\w._-]+
		"bad developer provider": {cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("p"), DeveloperProviderName: aws.String("a b")}, "DeveloperProviderName"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := h.admin.CreateIdentityPool(ctx, &tt.in)
			apiErr(t, err, "InvalidParameterException", tt.msg)
		})
	}
	out, err := h.admin.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(out.IdentityPools) != 0 {
		t.Fatalf("pools after refused creates: %+v, %v", out, err)
	}
	// ListIdentityPools' MaxResults is 1 to 60, and a token must be one
	// the server made.
	_, err = h.admin.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(61)})
	apiErr(t, err, "InvalidParameterException", "MaxResults")
	_, err = h.admin.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1), NextToken: aws.String("bogus")})
	apiErr(t, err, "InvalidParameterException", "NextToken")
	// An id of another region or not a UUID cannot exist here.
	for _, id := range []string{"eu-west-1:6b1f5e8e-0c6b-4a9e-9d1e-0f3c2a1b4c5d", "us-east-1:abc"} {
		_, err = h.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
		apiErr(t, err, "ResourceNotFoundException", id)
	}
	_, err = h.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String("no colon")})
	apiErr(t, err, "InvalidParameterException", "pattern")
}

// TestAPI_Limits checks the pool and identity quotas.
func TestAPI_Limits(t *testing.T) {
	h := newHarness(t, func(o *cognito.Options) { o.MaxPools, o.MaxIdentitiesPerPool = 2, 2 })
	ctx := context.Background()
	id := h.pool(t, &cognitoidentity.CreateIdentityPoolInput{AllowUnauthenticatedIdentities: true})
	h.pool(t, &cognitoidentity.CreateIdentityPoolInput{})
	_, err := h.admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("third")})
	apiErr(t, err, "LimitExceededException", "maximum of 2 identity pools")
	for range 2 {
		if _, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(id)})
	apiErr(t, err, "LimitExceededException", "maximum of 2 identities")
	// Deleting an identity makes room again.
	list, err := h.admin.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(id), MaxResults: aws.Int32(60)})
	if err != nil || len(list.Identities) != 2 {
		t.Fatalf("ListIdentities = %+v, %v", list, err)
	}
	if _, err := h.admin.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{aws.ToString(list.Identities[0].IdentityId)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(id)}); err != nil {
		t.Fatalf("GetId after a delete: %v", err)
	}
}
