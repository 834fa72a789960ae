package iamapi

import (
	"context"

	"github.com/moat-iot/moat/internal/iam"
)

// Managed policy operations, each authorized as iam:ACTION on the
// policy's ARN (ListPolicies on "*").

type createPolicyIn struct {
	PolicyName     string  `query:"PolicyName,required"`
	Path           *string `query:"Path"`
	PolicyDocument string  `query:"PolicyDocument,required"`
	Description    *string `query:"Description"`
	Tags           []tagIn `query:"Tags"`
}

func createPolicy(ctx context.Context, c *call, in *createPolicyIn) (any, error) {
	if err := c.authorize(ctx, "iam:CreatePolicy", c.iam().PolicyARN(str(in.Path), in.PolicyName)); err != nil {
		return nil, err
	}
	p, err := c.iam().CreatePolicy(ctx, iam.CreatePolicyInput{PolicyName: in.PolicyName, Path: str(in.Path),
		Document: in.PolicyDocument, Description: str(in.Description), Tags: tags(in.Tags)})
	if err != nil {
		return nil, err
	}
	return policyResult{Policy: policyShape(p)}, nil
}

func getPolicy(ctx context.Context, c *call, in *policyARNIn) (any, error) {
	if err := c.authorize(ctx, "iam:GetPolicy", in.PolicyArn); err != nil {
		return nil, err
	}
	p, err := c.iam().GetPolicy(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return policyResult{Policy: policyShape(p)}, nil
}

func deletePolicy(ctx context.Context, c *call, in *policyARNIn) (any, error) {
	if err := c.authorize(ctx, "iam:DeletePolicy", in.PolicyArn); err != nil {
		return nil, err
	}
	return nil, c.iam().DeletePolicy(ctx, in.PolicyArn)
}

type listPoliciesIn struct {
	Scope        *string `query:"Scope"`
	OnlyAttached *bool   `query:"OnlyAttached"`
	PathPrefix   *string `query:"PathPrefix"`
	Marker       *string `query:"Marker"`
	MaxItems     *int    `query:"MaxItems"`
}

func listPolicies(ctx context.Context, c *call, in *listPoliciesIn) (any, error) {
	if err := c.authorize(ctx, "iam:ListPolicies", "*"); err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	list, next, err := c.iam().ListPolicies(ctx, iam.ListPoliciesInput{Scope: str(in.Scope),
		OnlyAttached: in.OnlyAttached != nil && *in.OnlyAttached, PathPrefix: str(in.PathPrefix), Page: pg})
	if err != nil {
		return nil, err
	}
	return listPoliciesResult{Policies: convert(list, policyShape), IsTruncated: next != "", Marker: next}, nil
}

type createPolicyVersionIn struct {
	PolicyArn      string `query:"PolicyArn,required"`
	PolicyDocument string `query:"PolicyDocument,required"`
	SetAsDefault   bool   `query:"SetAsDefault"`
}

func createPolicyVersion(ctx context.Context, c *call, in *createPolicyVersionIn) (any, error) {
	if err := c.authorize(ctx, "iam:CreatePolicyVersion", in.PolicyArn); err != nil {
		return nil, err
	}
	v, err := c.iam().CreatePolicyVersion(ctx, in.PolicyArn, in.PolicyDocument, in.SetAsDefault)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{PolicyVersion: versionShape(v, false)}, nil
}

type policyVersionIn struct {
	PolicyArn string `query:"PolicyArn,required"`
	VersionID string `query:"VersionId,required"`
}

func getPolicyVersion(ctx context.Context, c *call, in *policyVersionIn) (any, error) {
	if err := c.authorize(ctx, "iam:GetPolicyVersion", in.PolicyArn); err != nil {
		return nil, err
	}
	v, err := c.iam().GetPolicyVersion(ctx, in.PolicyArn, in.VersionID)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{PolicyVersion: versionShape(v, true)}, nil
}

type listPolicyVersionsIn struct {
	PolicyArn string  `query:"PolicyArn,required"`
	Marker    *string `query:"Marker"`
	MaxItems  *int    `query:"MaxItems"`
}

func listPolicyVersions(ctx context.Context, c *call, in *listPolicyVersionsIn) (any, error) {
	if err := c.authorize(ctx, "iam:ListPolicyVersions", in.PolicyArn); err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	list, next, err := c.iam().ListPolicyVersions(ctx, in.PolicyArn, pg)
	if err != nil {
		return nil, err
	}
	shape := func(v iam.PolicyVersion) policyVersionOut { return versionShape(v, false) }
	return listPolicyVersionsResult{Versions: convert(list, shape), IsTruncated: next != "", Marker: next}, nil
}

func deletePolicyVersion(ctx context.Context, c *call, in *policyVersionIn) (any, error) {
	if err := c.authorize(ctx, "iam:DeletePolicyVersion", in.PolicyArn); err != nil {
		return nil, err
	}
	return nil, c.iam().DeletePolicyVersion(ctx, in.PolicyArn, in.VersionID)
}

func setDefaultPolicyVersion(ctx context.Context, c *call, in *policyVersionIn) (any, error) {
	if err := c.authorize(ctx, "iam:SetDefaultPolicyVersion", in.PolicyArn); err != nil {
		return nil, err
	}
	return nil, c.iam().SetDefaultPolicyVersion(ctx, in.PolicyArn, in.VersionID)
}
