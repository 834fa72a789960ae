package iamapi

import (
	"context"

	"github.com/moat-iot/moat/internal/iam"
)

// Role operations, each authorized as iam:ACTION on the role's ARN
// (ListRoles on "*").

func (c *call) roleARN(ctx context.Context, name string) string {
	return c.iam().EntityARN(ctx, iam.RoleEntity, name)
}

type createRoleIn struct {
	RoleName                 string  `query:"RoleName,required"`
	Path                     *string `query:"Path"`
	AssumeRolePolicyDocument string  `query:"AssumeRolePolicyDocument,required"`
	Description              *string `query:"Description"`
	MaxSessionDuration       *int    `query:"MaxSessionDuration"`
	Tags                     []tagIn `query:"Tags"`
}

func createRole(ctx context.Context, c *call, in *createRoleIn) (any, error) {
	if err := c.authorize(ctx, "iam:CreateRole", c.newARN("role", in.Path, in.RoleName)); err != nil {
		return nil, err
	}
	r, err := c.iam().CreateRole(ctx, iam.CreateRoleInput{RoleName: in.RoleName, Path: str(in.Path), TrustPolicy: in.AssumeRolePolicyDocument,
		Description: str(in.Description), MaxSessionDuration: seconds(in.MaxSessionDuration), Tags: tags(in.Tags)})
	if err != nil {
		return nil, err
	}
	return roleResult{Role: roleShape(r)}, nil
}

type roleNameIn struct {
	RoleName string `query:"RoleName,required"`
}

func getRole(ctx context.Context, c *call, in *roleNameIn) (any, error) {
	if err := c.authorize(ctx, "iam:GetRole", c.roleARN(ctx, in.RoleName)); err != nil {
		return nil, err
	}
	r, err := c.iam().Role(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	return roleResult{Role: roleShape(r)}, nil
}

type listRolesIn struct {
	PathPrefix *string `query:"PathPrefix"`
	Marker     *string `query:"Marker"`
	MaxItems   *int    `query:"MaxItems"`
}

func listRoles(ctx context.Context, c *call, in *listRolesIn) (any, error) {
	if err := c.authorize(ctx, "iam:ListRoles", "*"); err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	roles, next, err := c.iam().ListRoles(ctx, iam.ListRolesInput{PathPrefix: str(in.PathPrefix), Page: pg})
	if err != nil {
		return nil, err
	}
	return listRolesResult{Roles: convert(roles, roleShape), IsTruncated: next != "", Marker: next}, nil
}

func deleteRole(ctx context.Context, c *call, in *roleNameIn) (any, error) {
	if err := c.authorize(ctx, "iam:DeleteRole", c.roleARN(ctx, in.RoleName)); err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteRole(ctx, in.RoleName)
}

type updateAssumeRolePolicyIn struct {
	RoleName       string `query:"RoleName,required"`
	PolicyDocument string `query:"PolicyDocument,required"`
}

func updateAssumeRolePolicy(ctx context.Context, c *call, in *updateAssumeRolePolicyIn) (any, error) {
	if err := c.authorize(ctx, "iam:UpdateAssumeRolePolicy", c.roleARN(ctx, in.RoleName)); err != nil {
		return nil, err
	}
	return nil, c.iam().UpdateAssumeRolePolicy(ctx, in.RoleName, in.PolicyDocument)
}
