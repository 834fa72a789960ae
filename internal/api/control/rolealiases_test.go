package control_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/rolealias"
)

// roleAliasServer serves the role alias operations over a real service
// and store; asked returns the "action resource" of each authorization.
func roleAliasServer(t *testing.T) (c *iot.Client, svc *rolealias.Service, asked func() []string) {
	t.Helper()
	roles := &cognitotest.Roles{}
	roles.Put(cognitotest.Role("device-role", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	roles.Put(cognitotest.Role("other-role", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	svc = rolealias.New(control.NewTestStore(t), arn.Builder{Region: "us-east-1", Account: "000000000000"}, roles, rolealias.Options{})
	s := control.NewTestServer(t, control.RoleAliasOperations(svc))
	return s.Client, svc, s.Asked
}

const deviceRole = "arn:aws:iam::000000000000:role/device-role"

// TestRoleAliases walks a role alias through every operation with the
// SDK, checking the shapes and the resource each operation is authorized
// on.
func TestRoleAliases(t *testing.T) {
	c, _, asked := roleAliasServer(t)
	ctx := context.Background()
	aliasARN := "arn:aws:iot:us-east-1:000000000000:rolealias/uploader"
	before := time.Now().Add(-time.Second)
	out, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("uploader"), RoleArn: aws.String(deviceRole),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("cams")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.RoleAlias) != "uploader" || aws.ToString(out.RoleAliasArn) != aliasARN {
		t.Fatalf("CreateRoleAlias = %+v", out)
	}
	d, err := c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("uploader")})
	if err != nil {
		t.Fatal(err)
	}
	desc := d.RoleAliasDescription
	if aws.ToString(desc.RoleAlias) != "uploader" || aws.ToString(desc.RoleAliasArn) != aliasARN || aws.ToString(desc.RoleArn) != deviceRole ||
		aws.ToString(desc.Owner) != "000000000000" || aws.ToInt32(desc.CredentialDurationSeconds) != 3600 ||
		aws.ToTime(desc.CreationDate).Before(before) || aws.ToTime(desc.LastModifiedDate).Before(before) {
		t.Fatalf("DescribeRoleAlias = %+v", desc)
	}
	u, err := c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("uploader"), RoleArn: aws.String("arn:aws:iam::000000000000:role/other-role"), CredentialDurationSeconds: aws.Int32(900)})
	if err != nil || aws.ToString(u.RoleAliasArn) != aliasARN {
		t.Fatalf("UpdateRoleAlias = %+v, %v", u, err)
	}
	d, err = c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("uploader")})
	if err != nil || aws.ToInt32(d.RoleAliasDescription.CredentialDurationSeconds) != 900 || aws.ToString(d.RoleAliasDescription.RoleArn) != "arn:aws:iam::000000000000:role/other-role" {
		t.Fatalf("after update: %+v, %v", d.RoleAliasDescription, err)
	}

	for _, n := range []string{"b", "a", "c"} {
		if _, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String(n), RoleArn: aws.String(deviceRole), CredentialDurationSeconds: aws.Int32(43200)}); err != nil {
			t.Fatal(err)
		}
	}
	// The SDK sends isAscendingOrder only when true: both list ascending.
	for _, asc := range []bool{true, false} {
		var got []string
		in := &iot.ListRoleAliasesInput{PageSize: aws.Int32(3), AscendingOrder: asc}
		for pages := 0; ; pages++ {
			l, err := c.ListRoleAliases(ctx, in)
			if err != nil || pages > 2 {
				t.Fatalf("ListRoleAliases: %v", err)
			}
			got = append(got, l.RoleAliases...)
			if l.NextMarker == nil {
				break
			}
			in.Marker = l.NextMarker
		}
		want := []string{"a", "b", "c", "uploader"}
		if !slices.Equal(got, want) {
			t.Fatalf("ListRoleAliases ascending=%v = %v, want %v", asc, got, want)
		}
	}

	if _, err := c.DeleteRoleAlias(ctx, &iot.DeleteRoleAliasInput{RoleAlias: aws.String("uploader")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("uploader")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeRoleAlias after delete = %v", err)
	}

	want := map[string]bool{
		"iot:CreateRoleAlias " + aliasARN: true, "iot:DescribeRoleAlias " + aliasARN: true, "iot:UpdateRoleAlias " + aliasARN: true,
		"iot:DeleteRoleAlias " + aliasARN: true, "iot:ListRoleAliases *": true,
		"iam:PassRole " + deviceRole: true, "iam:PassRole arn:aws:iam::000000000000:role/other-role": true,
	}
	for _, a := range asked() {
		delete(want, a)
	}
	if len(want) != 0 {
		t.Fatalf("not authorized as expected: %v (asked %v)", want, asked())
	}
}

// TestRoleAliases_Errors checks the documented errors and that a refused
// call changes nothing.
func TestRoleAliases_Errors(t *testing.T) {
	c, svc, _ := roleAliasServer(t)
	ctx := context.Background()
	if _, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("kept"), RoleArn: aws.String(deviceRole), CredentialDurationSeconds: aws.Int32(1200)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("kept"), RoleArn: aws.String(deviceRole)})
	var rae *types.ResourceAlreadyExistsException
	if !errors.As(err, &rae) || aws.ToString(rae.ResourceArn) != svc.ARN("kept") {
		t.Fatalf("duplicate CreateRoleAlias = %v", err)
	}
	apiErr(t, err, "ResourceAlreadyExistsException", 409)
	tests := map[string]struct {
		call func() error
		code string
		want int
	}{
		"duration below 900": {func() error {
			_, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("x"), RoleArn: aws.String(deviceRole), CredentialDurationSeconds: aws.Int32(60)})
			return err
		}, "InvalidRequestException", 400},
		"duration 0": {func() error {
			_, err := c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("kept"), CredentialDurationSeconds: aws.Int32(0)})
			return err
		}, "InvalidRequestException", 400},
		"role missing": {func() error {
			_, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("x"), RoleArn: aws.String("arn:aws:iam::000000000000:role/none")})
			return err
		}, "InvalidRequestException", 400},
		"not a role": {func() error {
			_, err := c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("kept"), RoleArn: aws.String("arn:aws:s3:::bucket/role/x")})
			return err
		}, "InvalidRequestException", 400},
		"bad name": {func() error {
			_, err := c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("a.b")})
			return err
		}, "InvalidRequestException", 400},
		"unknown update": {func() error {
			_, err := c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("nope"), CredentialDurationSeconds: aws.Int32(900)})
			return err
		}, "ResourceNotFoundException", 404},
		"unknown delete": {func() error {
			_, err := c.DeleteRoleAlias(ctx, &iot.DeleteRoleAliasInput{RoleAlias: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", 404},
		"bad marker": {func() error {
			_, err := c.ListRoleAliases(ctx, &iot.ListRoleAliasesInput{Marker: aws.String("AAAA")})
			return err
		}, "InvalidRequestException", 400},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) { apiErr(t, tt.call(), tt.code, tt.want) })
	}
	a, err := svc.Describe(ctx, "kept")
	if err != nil || a.DurationSeconds != 1200 || a.RoleARN != deviceRole {
		t.Fatalf("kept after refused calls = %+v, %v", a, err)
	}
	if names, _, _ := svc.List(ctx, 0, "", true); !slices.Equal(names, []string{"kept"}) {
		t.Fatalf("aliases = %v", names)
	}
}

// TestRoleAliases_PassRole checks that creating or repointing a role alias
// needs iam:PassRole on its role, and that a refusal changes nothing.
func TestRoleAliases_PassRole(t *testing.T) {
	roles := &cognitotest.Roles{}
	roles.Put(cognitotest.Role("device-role", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	svc := rolealias.New(control.NewTestStore(t), arn.Builder{Region: "us-east-1", Account: "000000000000"}, roles, rolealias.Options{})
	s := control.NewTestServer(t, control.RoleAliasOperations(svc))
	ctx := context.Background()
	if _, err := s.Client.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("kept"), RoleArn: aws.String(deviceRole)}); err != nil {
		t.Fatal(err)
	}
	s.Deny("iam:PassRole")
	_, err := s.Client.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("uploader"), RoleArn: aws.String(deviceRole)})
	apiErr(t, err, "AccessDeniedException", 403)
	_, err = s.Client.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("kept"), RoleArn: aws.String(deviceRole), CredentialDurationSeconds: aws.Int32(900)})
	apiErr(t, err, "AccessDeniedException", 403)
	// Changing only the duration passes no role.
	if _, err := s.Client.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("kept"), CredentialDurationSeconds: aws.Int32(1800)}); err != nil {
		t.Fatalf("UpdateRoleAlias without a role: %v", err)
	}
	l, err := s.Client.ListRoleAliases(ctx, &iot.ListRoleAliasesInput{})
	if err != nil || !slices.Equal(l.RoleAliases, []string{"kept"}) {
		t.Fatalf("after refusals: %v, %v", l.RoleAliases, err)
	}
	d, err := s.Client.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("kept")})
	if err != nil || aws.ToInt32(d.RoleAliasDescription.CredentialDurationSeconds) != 1800 {
		t.Fatalf("kept alias: %+v, %v", d, err)
	}
}
