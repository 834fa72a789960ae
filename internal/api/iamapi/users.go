package iamapi

import (
	"context"

	"github.com/moat-iot/moat/internal/iam"
)

// User operations: users, their access keys, inline and attached
// policies. Each is authorized as iam:ACTION on the user's ARN.

func (c *call) userARN(ctx context.Context, name string) string {
	return c.iam().EntityARN(ctx, iam.UserEntity, name)
}

type createUserIn struct {
	UserName string  `query:"UserName,required"`
	Path     *string `query:"Path"`
	Tags     []tagIn `query:"Tags"`
}

func createUser(ctx context.Context, c *call, in *createUserIn) (any, error) {
	path := str(in.Path)
	if path == "" {
		path = "/"
	}
	if err := c.authorize(ctx, "iam:CreateUser", "arn:aws:iam::"+c.iam().Account()+":user"+path+in.UserName); err != nil {
		return nil, err
	}
	u, err := c.iam().CreateUser(ctx, iam.CreateUserInput{UserName: in.UserName, Path: str(in.Path), Tags: tags(in.Tags)})
	if err != nil {
		return nil, err
	}
	return userResult{User: userShape(u)}, nil
}

type userNameIn struct {
	UserName *string `query:"UserName"`
}

func getUser(ctx context.Context, c *call, in *userNameIn) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "iam:GetUser", c.userARN(ctx, name)); err != nil {
		return nil, err
	}
	u, err := c.iam().GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	return userResult{User: userShape(u)}, nil
}

type listUsersIn struct {
	PathPrefix *string `query:"PathPrefix"`
	Marker     *string `query:"Marker"`
	MaxItems   *int    `query:"MaxItems"`
}

func listUsers(ctx context.Context, c *call, in *listUsersIn) (any, error) {
	if err := c.authorize(ctx, "iam:ListUsers", "*"); err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	users, next, err := c.iam().ListUsers(ctx, iam.ListUsersInput{PathPrefix: str(in.PathPrefix), Page: pg})
	if err != nil {
		return nil, err
	}
	out := listUsersResult{Users: make([]userOut, len(users)), IsTruncated: next != "", Marker: next}
	for i, u := range users {
		out.Users[i] = userShape(u)
	}
	return out, nil
}

type requiredUserIn struct {
	UserName string `query:"UserName,required"`
}

func deleteUser(ctx context.Context, c *call, in *requiredUserIn) (any, error) {
	if err := c.authorize(ctx, "iam:DeleteUser", c.userARN(ctx, in.UserName)); err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteUser(ctx, in.UserName)
}

func createAccessKey(ctx context.Context, c *call, in *userNameIn) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "iam:CreateAccessKey", c.userARN(ctx, name)); err != nil {
		return nil, err
	}
	k, err := c.iam().CreateAccessKey(ctx, name)
	if err != nil {
		return nil, err
	}
	return createAccessKeyResult{AccessKey: accessKeyShape(k)}, nil
}

type listAccessKeysIn struct {
	UserName *string `query:"UserName"`
	Marker   *string `query:"Marker"`
	MaxItems *int    `query:"MaxItems"`
}

func listAccessKeys(ctx context.Context, c *call, in *listAccessKeysIn) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "iam:ListAccessKeys", c.userARN(ctx, name)); err != nil {
		return nil, err
	}
	pg, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	keys, next, err := c.iam().ListAccessKeys(ctx, name, pg)
	if err != nil {
		return nil, err
	}
	out := listAccessKeysResult{AccessKeyMetadata: make([]accessKeyOut, len(keys)), IsTruncated: next != "", Marker: next}
	for i, k := range keys {
		out.AccessKeyMetadata[i] = accessKeyShape(k)
	}
	return out, nil
}

type updateAccessKeyIn struct {
	UserName    *string `query:"UserName"`
	AccessKeyID string  `query:"AccessKeyId,required"`
	Status      string  `query:"Status,required"`
}

func updateAccessKey(ctx context.Context, c *call, in *updateAccessKeyIn) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "iam:UpdateAccessKey", c.userARN(ctx, name)); err != nil {
		return nil, err
	}
	return nil, c.iam().UpdateAccessKey(ctx, name, in.AccessKeyID, in.Status)
}

type deleteAccessKeyIn struct {
	UserName    *string `query:"UserName"`
	AccessKeyID string  `query:"AccessKeyId,required"`
}

func deleteAccessKey(ctx context.Context, c *call, in *deleteAccessKeyIn) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "iam:DeleteAccessKey", c.userARN(ctx, name)); err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteAccessKey(ctx, name, in.AccessKeyID)
}
