package iamapi

import (
	"context"

	"github.com/moat-iot/moat/internal/iam"
)

// User operations: users, their access keys, inline and attached
// policies. Each is authorized as iam:ACTION on the user's ARN.

// user returns the user an operation is about: the UserName member, or
// the caller when it is absent (see userName), once the caller is allowed
// action on the user's ARN.
func (c *call) user(ctx context.Context, action string, name *string) (string, error) {
	n, err := c.userName(name)
	if err != nil {
		return "", err
	}
	if err := c.authorize(ctx, action, c.iam().EntityARN(ctx, iam.UserEntity, n)); err != nil {
		return "", err
	}
	return n, nil
}

type createUserIn struct {
	UserName string  `query:"UserName,required"`
	Path     *string `query:"Path"`
	Tags     []tagIn `query:"Tags"`
}

func createUser(ctx context.Context, c *call, in *createUserIn) (any, error) {
	if err := c.authorize(ctx, "iam:CreateUser", c.newARN("user", in.Path, in.UserName)); err != nil {
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
	name, err := c.user(ctx, "iam:GetUser", in.UserName)
	if err != nil {
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
	return listUsersResult{Users: convert(users, userShape), IsTruncated: next != "", Marker: next}, nil
}

type requiredUserIn struct {
	UserName string `query:"UserName,required"`
}

func deleteUser(ctx context.Context, c *call, in *requiredUserIn) (any, error) {
	name, err := c.user(ctx, "iam:DeleteUser", &in.UserName)
	if err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteUser(ctx, name)
}

func createAccessKey(ctx context.Context, c *call, in *userNameIn) (any, error) {
	name, err := c.user(ctx, "iam:CreateAccessKey", in.UserName)
	if err != nil {
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
	name, err := c.user(ctx, "iam:ListAccessKeys", in.UserName)
	if err != nil {
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
	return listAccessKeysResult{AccessKeyMetadata: convert(keys, accessKeyShape), IsTruncated: next != "", Marker: next}, nil
}

type updateAccessKeyIn struct {
	UserName    *string `query:"UserName"`
	AccessKeyID string  `query:"AccessKeyId,required"`
	Status      string  `query:"Status,required"`
}

func updateAccessKey(ctx context.Context, c *call, in *updateAccessKeyIn) (any, error) {
	name, err := c.user(ctx, "iam:UpdateAccessKey", in.UserName)
	if err != nil {
		return nil, err
	}
	return nil, c.iam().UpdateAccessKey(ctx, name, in.AccessKeyID, in.Status)
}

type deleteAccessKeyIn struct {
	UserName    *string `query:"UserName"`
	AccessKeyID string  `query:"AccessKeyId,required"`
}

func deleteAccessKey(ctx context.Context, c *call, in *deleteAccessKeyIn) (any, error) {
	name, err := c.user(ctx, "iam:DeleteAccessKey", in.UserName)
	if err != nil {
		return nil, err
	}
	return nil, c.iam().DeleteAccessKey(ctx, name, in.AccessKeyID)
}
