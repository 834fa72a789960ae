package iamapi

import (
	"context"

	"github.com/moat-iot/moat/internal/awsapi/query"
	"github.com/moat-iot/moat/internal/iam"
)

// STS operations.

type noInput struct{}

// getCallerIdentity needs no permission, as in AWS: any authenticated
// caller may ask who it is.
func getCallerIdentity(ctx context.Context, c *call, _ *noInput) (any, error) {
	id, err := c.iam().CallerIdentity(ctx, c.p)
	if err != nil {
		return nil, err
	}
	return callerIdentityResult{UserID: id.UserID, Account: id.Account, Arn: id.ARN}, nil
}

type policyDescriptorIn struct {
	Arn string `query:"arn"`
}

type assumeRoleIn struct {
	RoleArn         string               `query:"RoleArn,required"`
	RoleSessionName string               `query:"RoleSessionName,required"`
	DurationSeconds *int                 `query:"DurationSeconds"`
	Policy          *string              `query:"Policy"`
	PolicyArns      []policyDescriptorIn `query:"PolicyArns"`
	Tags            []tagIn              `query:"Tags"`
	ExternalID      *string              `query:"ExternalId"`
}

// assumeRole needs sts:AssumeRole on the role's ARN from the caller's
// identity policies, then the role's trust policy (iam.Service.AssumeRole).
func assumeRole(ctx context.Context, c *call, in *assumeRoleIn) (any, error) {
	if len(in.PolicyArns) > 0 {
		return nil, query.Errorf(query.ValidationError, "Session policies (Policy, PolicyArns) are not supported: leave them out; the session gets the role's permissions.")
	}
	if err := c.authorize(ctx, "sts:AssumeRole", in.RoleArn); err != nil {
		return nil, err
	}
	out, err := c.iam().AssumeRole(ctx, iam.AssumeRoleInput{Caller: c.p, RoleARN: in.RoleArn, SessionName: in.RoleSessionName,
		Duration: seconds(in.DurationSeconds), Tags: tags(in.Tags), ExternalID: str(in.ExternalID), Policy: str(in.Policy), Vars: c.vars()})
	if err != nil {
		return nil, err
	}
	cr := out.Credentials
	return assumeRoleResult{
		Credentials: credentialsOut{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey,
			SessionToken: cr.SessionToken, Expiration: query.Time(cr.Expiration)},
		AssumedRoleUser: assumedRoleUserOut{AssumedRoleID: out.AssumedRoleID, Arn: out.ARN},
	}, nil
}
