package rolealias_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/rolealias"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

const roleARN = "arn:aws:iam::000000000000:role/device-role"

// TestService_CRUD checks create, describe, update and delete, with tags
// kept by ARN and removed with the alias.
func TestService_CRUD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.aliases
	a, err := s.Create(ctx, "uploader", roleARN, 0, []tags.Tag{{Key: "team", Value: "cams"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.DurationSeconds != 3600 || a.Owner != "000000000000" || a.RoleARN != roleARN || a.CreatedAt.IsZero() {
		t.Fatalf("Create = %+v", a)
	}
	if s.ARN("uploader") != "arn:aws:iot:us-east-1:000000000000:rolealias/uploader" {
		t.Fatalf("ARN = %s", s.ARN("uploader"))
	}
	_, err = s.Create(ctx, "uploader", roleARN, 0, nil)
	var ae *awsapi.Error
	if !awsapi.Is(err, awsapi.ResourceAlreadyExists) || !asAPI(err, &ae) || ae.ResourceARN != s.ARN("uploader") {
		t.Fatalf("second Create = %v", err)
	}
	u, err := s.Update(ctx, "uploader", "", 7200)
	if err != nil || u.DurationSeconds != 7200 || u.RoleARN != roleARN || u.UpdatedAt.Before(a.UpdatedAt) || !u.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	d, err := s.Describe(ctx, "uploader")
	if err != nil || d.DurationSeconds != 7200 {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	var tagged map[string]string
	readTags := func() {
		t.Helper()
		err := e.st.View(ctx, func(tx store.Tx) error {
			var err error
			tagged, err = tx.Tags(s.ARN("uploader"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readTags()
	if tagged["team"] != "cams" {
		t.Fatalf("tags = %v", tagged)
	}
	if err := s.Delete(ctx, "uploader"); err != nil {
		t.Fatal(err)
	}
	readTags()
	if len(tagged) != 0 {
		t.Fatalf("tags after delete = %v", tagged)
	}
	for _, err := range []error{s.Delete(ctx, "uploader"), second(s.Describe(ctx, "uploader")), second(s.Update(ctx, "uploader", "", 900))} {
		if !awsapi.Is(err, awsapi.ResourceNotFound) {
			t.Fatalf("after delete: %v, want ResourceNotFoundException", err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func asAPI(err error, e **awsapi.Error) bool { return errors.As(err, e) }

// TestService_Validation checks that bad input is refused and changes
// nothing.
func TestService_Validation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.aliases
	if _, err := s.Create(ctx, "kept", roleARN, 900, nil); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		err  error
		code awsapi.Code
	}{
		"bad name":          {second(s.Create(ctx, "a/b", roleARN, 0, nil)), awsapi.InvalidRequest},
		"long name":         {second(s.Create(ctx, string(make([]byte, 129)), roleARN, 0, nil)), awsapi.InvalidRequest},
		"empty name":        {second(s.Create(ctx, "", roleARN, 0, nil)), awsapi.InvalidRequest},
		"short duration":    {second(s.Create(ctx, "a", roleARN, 899, nil)), awsapi.InvalidRequest},
		"long duration":     {second(s.Create(ctx, "a", roleARN, 43201, nil)), awsapi.InvalidRequest},
		"not a role ARN":    {second(s.Create(ctx, "a", "arn:aws:iam::000000000000:user/bob", 0, nil)), awsapi.InvalidRequest},
		"other account":     {second(s.Create(ctx, "a", "arn:aws:iam::111111111111:role/device-role", 0, nil)), awsapi.InvalidRequest},
		"no such role":      {second(s.Create(ctx, "a", "arn:aws:iam::000000000000:role/nope", 0, nil)), awsapi.InvalidRequest},
		"no role":           {second(s.Create(ctx, "a", "", 0, nil)), awsapi.InvalidRequest},
		"reserved tag":      {second(s.Create(ctx, "a", roleARN, 0, []tags.Tag{{Key: "aws:x", Value: "y"}})), awsapi.InvalidRequest},
		"update bad role":   {second(s.Update(ctx, "kept", "arn:aws:iam::000000000000:role/nope", 0)), awsapi.InvalidRequest},
		"update duration":   {second(s.Update(ctx, "kept", "", 100)), awsapi.InvalidRequest},
		"list page size":    {second3(s.List(ctx, 251, "", true)), awsapi.InvalidRequest},
		"list bad marker":   {second3(s.List(ctx, 1, "!!", true)), awsapi.InvalidRequest},
		"describe bad name": {second(s.Describe(ctx, "a b")), awsapi.InvalidRequest},
	}
	for name, tt := range tests {
		if !awsapi.Is(tt.err, tt.code) {
			t.Errorf("%s: %v, want %s", name, tt.err, tt.code)
		}
	}
	names, _, err := s.List(ctx, 0, "", true)
	if err != nil || !slices.Equal(names, []string{"kept"}) {
		t.Fatalf("aliases after refused calls = %v, %v", names, err)
	}
	if a, _ := s.Describe(ctx, "kept"); a.DurationSeconds != 900 || a.RoleARN != roleARN {
		t.Fatalf("kept = %+v", a)
	}
}

func second3[A, B any](_ A, _ B, err error) error { return err }

// TestService_ListAndLimit checks paging in both orders and the quota.
func TestService_ListAndLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := rolealias.New(e.st, arns, e.roles, rolealias.Options{Max: 5})
	want := []string{"a", "b", "c", "d", "e"}
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		if _, err := s.Create(ctx, n, roleARN, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, "f", roleARN, 0, nil); !awsapi.Is(err, awsapi.LimitExceeded) {
		t.Fatalf("sixth alias: %v, want LimitExceededException", err)
	}
	for _, asc := range []bool{true, false} {
		var got []string
		marker := ""
		for pages := 0; ; pages++ {
			names, next, err := s.List(ctx, 2, marker, asc)
			if err != nil || pages > 3 || len(names) > 2 {
				t.Fatalf("page %d: %v, %v", pages, names, err)
			}
			got = append(got, names...)
			if next == "" {
				break
			}
			marker = next
		}
		w := slices.Clone(want)
		if !asc {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Fatalf("ascending %v: %v, want %v", asc, got, w)
		}
	}
}
