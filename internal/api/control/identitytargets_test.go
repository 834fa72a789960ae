package control_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/policies"
)

// TestIdentityTargets checks Cognito identity ids as policy targets in
// every attachment operation, new and legacy, and the identity's policies
// as the access layer reads them.
func TestIdentityTargets(t *testing.T) {
	ctx := context.Background()
	st := control.NewTestStore(t)
	arns := arn.Builder{Region: "us-east-1", Account: "000000000000"}
	pols := policies.New(st, arns)
	ids, err := cognito.New(st, auth.New(st, arns.Region, arns.Account), &cognitotest.Roles{}, cognito.Options{Region: arns.Region, Account: arns.Account})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := ids.CreatePool(ctx, "p", cognito.PoolConfig{AllowUnauthenticated: true})
	if err != nil {
		t.Fatal(err)
	}
	identity, err := ids.GetID(ctx, pool.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &control.API{Policies: pols, ARNs: arns}
	c := control.NewTestServer(t, a.Operations()).Client
	for _, n := range []string{"p1", "p2"} {
		if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(seedPolicy)}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(identity)}); err != nil {
		t.Fatalf("AttachPolicy to an identity: %v", err)
	}
	if _, err := c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("p2"), Principal: aws.String(identity)}); err != nil {
		t.Fatalf("AttachPrincipalPolicy to an identity: %v", err)
	}
	att, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(identity)})
	if err != nil || len(att.Policies) != 2 {
		t.Fatalf("ListAttachedPolicies = %+v, %v", att, err)
	}
	pp, err := c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(identity)})
	if err != nil || len(pp.Policies) != 2 {
		t.Fatalf("ListPrincipalPolicies = %+v, %v", pp, err)
	}
	tg, err := c.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("p1")})
	if err != nil || !slices.Equal(tg.Targets, []string{identity}) {
		t.Fatalf("ListTargetsForPolicy = %+v, %v", tg, err)
	}
	pr, err := c.ListPolicyPrincipals(ctx, &iot.ListPolicyPrincipalsInput{PolicyName: aws.String("p2")})
	if err != nil || !slices.Equal(pr.Principals, []string{identity}) {
		t.Fatalf("ListPolicyPrincipals = %+v, %v", pr, err)
	}
	eff, err := pols.Effective(ctx, identity)
	if err != nil || len(eff) != 2 {
		t.Fatalf("Effective(identity) = %d policies, %v", len(eff), err)
	}

	// TestAuthorization and GetEffectivePolicies take the identity as
	// their principal (AWS's CognitoId): its IoT policies, with
	// ${cognito-identity.amazonaws.com:sub} bound to it.
	subPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish",
	  "Resource":"arn:aws:iot:us-east-1:000000000000:topic/${cognito-identity.amazonaws.com:sub}/*"}]}`
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p3"), PolicyDocument: aws.String(subPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p3"), Target: aws.String(identity)}); err != nil {
		t.Fatal(err)
	}
	ta, err := c.TestAuthorization(ctx, &iot.TestAuthorizationInput{Principal: aws.String(identity), CognitoIdentityPoolId: aws.String(pool.ID),
		ClientId: aws.String("app-1"), AuthInfos: []types.AuthInfo{
			{ActionType: types.ActionTypePublish, Resources: []string{"arn:aws:iot:us-east-1:000000000000:topic/app-1/x"}},
			{ActionType: types.ActionTypePublish, Resources: []string{"arn:aws:iot:us-east-1:000000000000:topic/" + identity + "/x"}},
			{ActionType: types.ActionTypePublish, Resources: []string{"arn:aws:iot:us-east-1:000000000000:topic/other/x"}},
		}})
	if err != nil {
		t.Fatalf("TestAuthorization of an identity: %v", err)
	}
	var decisions []types.AuthDecision
	for _, r := range ta.AuthResults {
		decisions = append(decisions, r.AuthDecision)
	}
	if !slices.Equal(decisions, []types.AuthDecision{types.AuthDecisionAllowed, types.AuthDecisionAllowed, types.AuthDecisionImplicitDeny}) {
		t.Fatalf("TestAuthorization decisions %v", decisions)
	}
	ep, err := c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{Principal: aws.String(identity), CognitoIdentityPoolId: aws.String(pool.ID)})
	if err != nil || len(ep.EffectivePolicies) != 3 {
		t.Fatalf("GetEffectivePolicies of an identity = %+v, %v", ep, err)
	}
	if _, err := c.TestAuthorization(ctx, &iot.TestAuthorizationInput{Principal: aws.String("eu-west-1:" + identity[len("us-east-1:"):]),
		AuthInfos: []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: []string{"arn:aws:iot:us-east-1:000000000000:topic/a"}}}}); err == nil {
		t.Fatal("TestAuthorization took an identity of another region")
	}
	if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("p3"), Target: aws.String(identity)}); err != nil {
		t.Fatal(err)
	}

	// Identities of another region, malformed or unknown are refused.
	for target, code := range map[string]string{
		"eu-west-1:" + identity[len("us-east-1:"):]: "InvalidRequestException",
		"us-east-1:0000": "InvalidRequestException",
		"us-east-1:00000000-0000-4000-8000-000000000000": "ResourceNotFoundException",
	} {
		_, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(target)})
		status := map[string]int{"InvalidRequestException": 400, "ResourceNotFoundException": 404}[code]
		apiErr(t, err, code, status)
		_, err = c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("p1"), Principal: aws.String(target)})
		apiErr(t, err, code, status)
	}

	if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(identity)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetachPrincipalPolicy(ctx, &iot.DetachPrincipalPolicyInput{PolicyName: aws.String("p2"), Principal: aws.String(identity)}); err != nil {
		t.Fatal(err)
	}
	if att, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(identity)}); err != nil || len(att.Policies) != 0 {
		t.Fatalf("after detach: %+v, %v", att, err)
	}
}
