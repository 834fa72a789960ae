package cognitoapi

import (
	"context"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
)

type identityIDInput struct {
	IdentityID string `json:"IdentityId"`
}

type identityDescription struct {
	IdentityID       string   `json:"IdentityId"`
	Logins           []string `json:"Logins,omitempty"`
	CreationDate     epoch    `json:"CreationDate"`
	LastModifiedDate epoch    `json:"LastModifiedDate"`
}

func describe(i cognito.Identity) identityDescription {
	return identityDescription{IdentityID: i.ID, Logins: i.Providers(), CreationDate: toEpoch(i.CreatedAt), LastModifiedDate: toEpoch(i.UpdatedAt)}
}

// describeIdentity is authorized on the identity's pool; an identity that
// does not exist is authorized on "*" before it is reported missing.
func (a *API) describeIdentity(ctx context.Context, c *call) (any, error) {
	var in identityIDInput
	if err := c.decodeRequired(&in, "IdentityId", &in.IdentityID); err != nil {
		return nil, err
	}
	i, lookupErr := a.Service.DescribeIdentity(ctx, in.IdentityID)
	resource := "*"
	if lookupErr == nil {
		resource = a.Service.PoolARN(i.PoolID)
	}
	if err := a.authorize(ctx, c, actionPrefix+"DescribeIdentity", resource); err != nil {
		return nil, err
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	return describe(i), nil
}

type listIdentitiesInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
	MaxResults     *int   `json:"MaxResults"`
	NextToken      string `json:"NextToken"`
	HideDisabled   bool   `json:"HideDisabled"`
}

type listIdentitiesOutput struct {
	IdentityPoolID string                `json:"IdentityPoolId"`
	Identities     []identityDescription `json:"Identities"`
	NextToken      string                `json:"NextToken,omitempty"`
}

func (a *API) listIdentities(ctx context.Context, c *call) (any, error) {
	var in listIdentitiesInput
	if err := a.poolCall(ctx, c, "ListIdentities", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	if in.MaxResults == nil {
		return nil, required("MaxResults")
	}
	is, next, err := a.Service.ListIdentities(ctx, in.IdentityPoolID, *in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listIdentitiesOutput{IdentityPoolID: in.IdentityPoolID, Identities: make([]identityDescription, 0, len(is)), NextToken: next}
	for _, i := range is {
		out.Identities = append(out.Identities, describe(i))
	}
	return out, nil
}

type deleteIdentitiesInput struct {
	IdentityIDsToDelete []string `json:"IdentityIdsToDelete"`
}

type unprocessed struct {
	IdentityID string `json:"IdentityId"`
	ErrorCode  string `json:"ErrorCode"`
}

type deleteIdentitiesOutput struct {
	UnprocessedIdentityIDs []unprocessed `json:"UnprocessedIdentityIds"`
}

// deleteIdentities deletes the identities the caller may delete (each
// authorized on its pool); the others are answered as unprocessed with
// ErrorCode AccessDenied, as in AWS. Unknown identities are skipped.
func (a *API) deleteIdentities(ctx context.Context, c *call) (any, error) {
	var in deleteIdentitiesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if len(in.IdentityIDsToDelete) < 1 || len(in.IdentityIDsToDelete) > 60 {
		return nil, &awsapi.Error{Code: cognito.InvalidParameter, Message: "IdentityIdsToDelete must name 1 to 60 identities."}
	}
	out := deleteIdentitiesOutput{UnprocessedIdentityIDs: []unprocessed{}}
	var allowed []string
	for _, id := range in.IdentityIDsToDelete {
		i, err := a.Service.DescribeIdentity(ctx, id)
		if awsapi.Is(err, cognito.ResourceNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		err = a.authorize(ctx, c, actionPrefix+"DeleteIdentities", a.Service.PoolARN(i.PoolID))
		if awsapi.Is(err, accessDeniedException) {
			out.UnprocessedIdentityIDs = append(out.UnprocessedIdentityIDs, unprocessed{IdentityID: id, ErrorCode: "AccessDenied"})
			continue
		}
		if err != nil {
			return nil, err
		}
		allowed = append(allowed, id)
	}
	if len(allowed) > 0 {
		if _, err := a.Service.DeleteIdentities(ctx, allowed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type developerTokenInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	IdentityID     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags"`
	TokenDuration  *int64            `json:"TokenDuration"`
}

type tokenOutput struct {
	IdentityID string `json:"IdentityId"`
	Token      string `json:"Token"`
}

func (a *API) getOpenIDTokenForDeveloperIdentity(ctx context.Context, c *call) (any, error) {
	var in developerTokenInput
	if err := a.poolCall(ctx, c, "GetOpenIdTokenForDeveloperIdentity", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	if len(in.Logins) == 0 {
		return nil, required("Logins")
	}
	if len(in.PrincipalTags) > 0 {
		return nil, unsupported("PrincipalTags")
	}
	var life time.Duration
	if in.TokenDuration != nil {
		if *in.TokenDuration < 1 || *in.TokenDuration > 86400 {
			return nil, &awsapi.Error{Code: cognito.InvalidParameter, Message: "TokenDuration must be 1 to 86400 seconds."}
		}
		life = time.Duration(*in.TokenDuration) * time.Second
	}
	id, token, err := a.Service.GetOpenIDTokenForDeveloperIdentity(ctx, cognito.DeveloperTokenInput{
		PoolID: in.IdentityPoolID, IdentityID: in.IdentityID, Logins: in.Logins, TokenDuration: life,
	})
	if err != nil {
		return nil, err
	}
	return tokenOutput{IdentityID: id, Token: token}, nil
}

type getIDInput struct {
	AccountID      string            `json:"AccountId"`
	IdentityPoolID string            `json:"IdentityPoolId"`
	Logins         map[string]string `json:"Logins"`
}

type getIDOutput struct {
	IdentityID string `json:"IdentityId"`
}

func (a *API) getID(ctx context.Context, c *call) (any, error) {
	var in getIDInput
	if err := c.decodeRequired(&in, "IdentityPoolId", &in.IdentityPoolID); err != nil {
		return nil, err
	}
	id, err := a.Service.GetID(ctx, in.IdentityPoolID, in.AccountID, in.Logins)
	if err != nil {
		return nil, err
	}
	return getIDOutput{IdentityID: id}, nil
}

type credentialsInput struct {
	IdentityID    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleArn string            `json:"CustomRoleArn"`
}

type credentials struct {
	AccessKeyID  string `json:"AccessKeyId"`
	SecretKey    string `json:"SecretKey"`
	SessionToken string `json:"SessionToken"`
	Expiration   epoch  `json:"Expiration"`
}

type credentialsOutput struct {
	IdentityID  string      `json:"IdentityId"`
	Credentials credentials `json:"Credentials"`
}

func (a *API) getCredentialsForIdentity(ctx context.Context, c *call) (any, error) {
	var in credentialsInput
	if err := c.decodeRequired(&in, "IdentityId", &in.IdentityID); err != nil {
		return nil, err
	}
	cr, err := a.Service.GetCredentials(ctx, in.IdentityID, in.Logins, in.CustomRoleArn)
	if err != nil {
		return nil, err
	}
	return credentialsOutput{IdentityID: cr.IdentityID, Credentials: credentials{
		AccessKeyID: cr.AccessKeyID, SecretKey: cr.SecretAccessKey, SessionToken: cr.SessionToken,
		Expiration: epoch(cr.Expiration.Unix()),
	}}, nil
}

func (a *API) getOpenIDToken(ctx context.Context, c *call) (any, error) {
	var in struct {
		IdentityID string            `json:"IdentityId"`
		Logins     map[string]string `json:"Logins"`
	}
	if err := c.decodeRequired(&in, "IdentityId", &in.IdentityID); err != nil {
		return nil, err
	}
	token, err := a.Service.GetOpenIDToken(ctx, in.IdentityID, in.Logins)
	if err != nil {
		return nil, err
	}
	return tokenOutput{IdentityID: in.IdentityID, Token: token}, nil
}
