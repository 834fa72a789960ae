package control

import (
	"context"
	"net/http"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/rolealias"
	"github.com/moat-iot/moat/internal/tags"
)

// RoleAliasService is what the role alias operations need
// (*rolealias.Service). Its errors are *awsapi.Error values for what the
// caller must see (InvalidRequestException, ResourceNotFoundException,
// ResourceAlreadyExistsException, LimitExceededException).
type RoleAliasService interface {
	Create(ctx context.Context, name, roleARN string, durationSeconds int, ts []tags.Tag) (rolealias.Alias, error)
	Describe(ctx context.Context, name string) (rolealias.Alias, error)
	Update(ctx context.Context, name, roleARN string, durationSeconds int) (rolealias.Alias, error)
	Delete(ctx context.Context, name string) error
	List(ctx context.Context, pageSize int, marker string, ascending bool) ([]string, string, error)
	ARN(name string) string
}

var _ RoleAliasService = (*rolealias.Service)(nil)

// RoleAliasOperations are the role alias operations of the iot API
// (botocore iot/2015-05-28: CreateRoleAlias, DescribeRoleAlias,
// UpdateRoleAlias, DeleteRoleAlias, ListRoleAliases) over s. Each names
// its resource as the service authorization reference does: the alias's
// ARN (arn:aws:iot:REGION:ACCOUNT:rolealias/NAME), none for
// ListRoleAliases. They belong to the iot operation group, next to
// API.Operations.
func RoleAliasOperations(s RoleAliasService) []api.Operation {
	ra := roleAliases{s}
	byPath := func(r *api.Request) string { return s.ARN(r.PathValue("roleAlias")) }
	return []api.Operation{
		{Name: "CreateRoleAlias", Method: http.MethodPost, Path: "/role-aliases/{roleAlias}", Handle: ra.create, Resource: byPath},
		{Name: "DescribeRoleAlias", Method: http.MethodGet, Path: "/role-aliases/{roleAlias}", Handle: ra.describe, Resource: byPath},
		{Name: "UpdateRoleAlias", Method: http.MethodPut, Path: "/role-aliases/{roleAlias}", Handle: ra.update, Resource: byPath},
		{Name: "DeleteRoleAlias", Method: http.MethodDelete, Path: "/role-aliases/{roleAlias}", Handle: ra.delete, Resource: byPath},
		{Name: "ListRoleAliases", Method: http.MethodGet, Path: "/role-aliases", Handle: ra.list, Resource: api.NoResource},
	}
}

type roleAliases struct{ s RoleAliasService }

type roleAliasInput struct {
	RoleArn                   string    `json:"roleArn"`
	CredentialDurationSeconds *int      `json:"credentialDurationSeconds"`
	Tags                      []tagJSON `json:"tags"`
}

// decodeRoleAlias reads a create or update request and its duration; a
// duration sent as 0 is out of range (the services read 0 as "not
// given").
func decodeRoleAlias(r *api.Request) (roleAliasInput, int, error) {
	var in roleAliasInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return in, 0, err
	}
	if in.CredentialDurationSeconds == nil {
		return in, 0, nil
	}
	d := *in.CredentialDurationSeconds
	if d < rolealias.MinDuration || d > rolealias.MaxDuration {
		return in, 0, awsapi.Errorf(awsapi.InvalidRequest, "credentialDurationSeconds must be %d to %d, got %d.", rolealias.MinDuration, rolealias.MaxDuration, d)
	}
	return in, d, nil
}

type roleAliasOutput struct {
	RoleAlias    string `json:"roleAlias"`
	RoleAliasArn string `json:"roleAliasArn"`
}

// output is Create's and UpdateRoleAlias' answer, or the error.
func (ra roleAliases) output(a rolealias.Alias, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return roleAliasOutput{RoleAlias: a.Name, RoleAliasArn: ra.s.ARN(a.Name)}, nil
}

func (ra roleAliases) create(ctx context.Context, r *api.Request) (any, error) {
	in, d, err := decodeRoleAlias(r)
	if err != nil {
		return nil, err
	}
	if err := passRole(ctx, r, in.RoleArn); err != nil {
		return nil, err
	}
	return ra.output(ra.s.Create(ctx, r.PathValue("roleAlias"), in.RoleArn, d, fromTagJSON(in.Tags)))
}

type roleAliasDescription struct {
	RoleAlias                 string `json:"roleAlias"`
	RoleAliasArn              string `json:"roleAliasArn"`
	RoleArn                   string `json:"roleArn"`
	Owner                     string `json:"owner"`
	CredentialDurationSeconds int    `json:"credentialDurationSeconds"`
	CreationDate              epoch  `json:"creationDate"`
	LastModifiedDate          epoch  `json:"lastModifiedDate"`
}

func (ra roleAliases) describe(ctx context.Context, r *api.Request) (any, error) {
	a, err := ra.s.Describe(ctx, r.PathValue("roleAlias"))
	if err != nil {
		return nil, err
	}
	return struct {
		RoleAliasDescription roleAliasDescription `json:"roleAliasDescription"`
	}{roleAliasDescription{
		RoleAlias: a.Name, RoleAliasArn: ra.s.ARN(a.Name), RoleArn: a.RoleARN, Owner: a.Owner,
		CredentialDurationSeconds: a.DurationSeconds, CreationDate: toEpoch(a.CreatedAt), LastModifiedDate: toEpoch(a.UpdatedAt),
	}}, nil
}

func (ra roleAliases) update(ctx context.Context, r *api.Request) (any, error) {
	in, d, err := decodeRoleAlias(r)
	if err != nil {
		return nil, err
	}
	if err := passRole(ctx, r, in.RoleArn); err != nil {
		return nil, err
	}
	return ra.output(ra.s.Update(ctx, r.PathValue("roleAlias"), in.RoleArn, d))
}

func (ra roleAliases) delete(ctx context.Context, r *api.Request) (any, error) {
	return nil, ra.s.Delete(ctx, r.PathValue("roleAlias"))
}

type listRoleAliasesOutput struct {
	RoleAliases []string `json:"roleAliases"`
	NextMarker  string   `json:"nextMarker,omitempty"`
}

// list pages the aliases by name (see ascendingPage).
func (ra roleAliases) list(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := ascendingPage(r)
	if err != nil {
		return nil, err
	}
	names, next, err := ra.s.List(ctx, p.Limit, p.After, asc)
	if err != nil {
		return nil, err
	}
	return listRoleAliasesOutput{RoleAliases: append(make([]string, 0, len(names)), names...), NextMarker: next}, nil
}

// passRole checks that the caller may pass the role a role alias names to
// IoT (iam:PassRole on the role's ARN), as AWS requires for
// CreateRoleAlias and UpdateRoleAlias: whoever may create an alias must
// not thereby hand devices a role they could not use themselves.
func passRole(ctx context.Context, r *api.Request, roleARN string) error {
	if roleARN == "" {
		return nil
	}
	return r.Authorize(ctx, "iam:PassRole", roleARN)
}
