package iamapi

import (
	"context"
	"fmt"

	"github.com/moat-iot/moat/internal/awsapi/query"
	"github.com/moat-iot/moat/internal/iam"
)

// The policy operations users and roles share (Put/Get/Delete/List
// UserPolicy and RolePolicy, Attach/Detach/ListAttached User and Role
// policies), made per entity type. Each is authorized as its action
// (iam:PutUserPolicy, iam:AttachRolePolicy, ...) on the user's or role's
// ARN.

// entityIn names the user or role an operation is about.
type entityIn struct {
	UserName *string `query:"UserName"`
	RoleName *string `query:"RoleName"`
}

// entity returns the name of the user or role the operation is about
// (UserName or RoleName, whichever typ needs; required), once the caller
// is allowed action on its ARN. action has a %s for the type's noun
// ("iam:Put%sPolicy": iam:PutUserPolicy, iam:PutRolePolicy).
func (c *call) entity(ctx context.Context, typ iam.EntityType, in entityIn, action string) (string, error) {
	p, member, noun := in.UserName, "UserName", "User"
	if typ == iam.RoleEntity {
		p, member, noun = in.RoleName, "RoleName", "Role"
	}
	if p == nil {
		return "", query.Errorf(query.ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	if err := c.authorize(ctx, fmt.Sprintf(action, noun), c.iam().EntityARN(ctx, typ, *p)); err != nil {
		return "", err
	}
	return *p, nil
}

type putPolicyIn struct {
	PolicyName     string `query:"PolicyName,required"`
	PolicyDocument string `query:"PolicyDocument,required"`
}

// decodeEntity decodes the embedded entityIn too (Decode reads only the
// tagged fields of the struct it is given).
func decodeEntity[In any](fn func(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *In) (any, error), typ iam.EntityType) operation {
	return op(func(ctx context.Context, c *call, in *In) (any, error) {
		var e entityIn
		if err := c.form.Decode(&e); err != nil {
			return nil, err
		}
		return fn(ctx, c, typ, e, in)
	})
}

func putEntityPolicy(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *putPolicyIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:Put%sPolicy")
	if err != nil {
		return nil, err
	}
	return nil, c.iam().PutPolicy(ctx, typ, name, in.PolicyName, in.PolicyDocument)
}

type policyNameIn struct {
	PolicyName string `query:"PolicyName,required"`
}

func getEntityPolicy(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *policyNameIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:Get%sPolicy")
	if err != nil {
		return nil, err
	}
	stored, doc, err := c.iam().GetInlinePolicy(ctx, typ, name, in.PolicyName)
	if err != nil {
		return nil, err
	}
	out := inlinePolicyResult{PolicyName: stored, PolicyDocument: escapeDocument(doc)}
	if typ == iam.RoleEntity {
		out.RoleName = name
	} else {
		out.UserName = name
	}
	return out, nil
}

func deleteEntityPolicy(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *policyNameIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:Delete%sPolicy")
	if err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteInlinePolicy(ctx, typ, name, in.PolicyName)
}

type pageIn struct {
	Marker   *string `query:"Marker"`
	MaxItems *int    `query:"MaxItems"`
}

func listEntityPolicies(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *pageIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:List%sPolicies")
	if err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	names, next, err := c.iam().ListInlinePolicies(ctx, typ, name, pg)
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return policyNamesResult{PolicyNames: names, IsTruncated: next != "", Marker: next}, nil
}

type policyARNIn struct {
	PolicyArn string `query:"PolicyArn,required"`
}

func attachEntityPolicy(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *policyARNIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:Attach%sPolicy")
	if err != nil {
		return nil, err
	}
	return nil, c.iam().AttachPolicy(ctx, typ, name, in.PolicyArn)
}

func detachEntityPolicy(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *policyARNIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:Detach%sPolicy")
	if err != nil {
		return nil, err
	}
	return nil, c.iam().DetachPolicy(ctx, typ, name, in.PolicyArn)
}

type listAttachedIn struct {
	PathPrefix *string `query:"PathPrefix"`
	Marker     *string `query:"Marker"`
	MaxItems   *int    `query:"MaxItems"`
}

func listAttachedPolicies(ctx context.Context, c *call, typ iam.EntityType, e entityIn, in *listAttachedIn) (any, error) {
	name, err := c.entity(ctx, typ, e, "iam:ListAttached%sPolicies")
	if err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	list, next, err := c.iam().ListAttachedPolicies(ctx, typ, iam.ListAttachedPoliciesInput{Name: name,
		PathPrefix: str(in.PathPrefix), Page: pg})
	if err != nil {
		return nil, err
	}
	shape := func(a iam.AttachedPolicy) attachedPolicyOut {
		return attachedPolicyOut{PolicyName: a.Name, PolicyArn: a.ARN}
	}
	return listAttachedResult{AttachedPolicies: convert(list, shape), IsTruncated: next != "", Marker: next}, nil
}
