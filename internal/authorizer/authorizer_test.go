package authorizer

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

func names(as []Authorizer) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

func wantCode(t *testing.T, err error, code awsapi.Code) {
	t.Helper()
	if !awsapi.Is(err, code) {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// TestService_lifecycle walks an authorizer through create, describe,
// update, default, delete, checking what each step stores and refuses.
func TestService_lifecycle(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	var changes []string
	s.OnChange = func(name string) { changes = append(changes, name) }

	a := signed(t, s, "https://auth.example/fn")
	if a.ARN != "arn:aws:iot:us-east-1:000000000000:authorizer/signed" || a.Status != Active || a.CreatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	got, err := s.Get(ctx, "signed")
	if err != nil {
		t.Fatal(err)
	}
	if got.FunctionARN != "https://auth.example/fn" || got.TokenKeyName != "token" || got.SigningKeys["k1"] == "" ||
		got.SigningDisabled || got.ARN != a.ARN || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("described %+v", got)
	}

	// A second create of the name is refused with its name and ARN.
	_, err = s.Create(ctx, "signed", Config{FunctionARN: "https://x.example/", SigningDisabled: true})
	var e *awsapi.Error
	if !errors.As(err, &e) || e.Code != awsapi.ResourceAlreadyExists || e.ResourceARN != a.ARN {
		t.Fatalf("duplicate create: %v", err)
	}

	// Deleting an ACTIVE authorizer is a conflict.
	wantCode(t, s.Delete(ctx, "signed"), awsapi.DeleteConflict)

	// Update changes only what it names.
	fn := "http://127.0.0.1:9/other"
	up, err := s.Update(ctx, "signed", Update{FunctionARN: &fn, Status: Inactive})
	if err != nil {
		t.Fatal(err)
	}
	if up.FunctionARN != fn || up.Status != Inactive || up.TokenKeyName != "token" || len(up.SigningKeys) != 1 {
		t.Fatalf("updated %+v", up)
	}
	if got, _ := s.Get(ctx, "signed"); got.Status != Inactive || got.FunctionARN != fn || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("after update %+v", got)
	}

	// The default authorizer.
	wantCode(t, func() error { _, err := s.Default(ctx); return err }(), awsapi.ResourceNotFound)
	wantCode(t, s.ClearDefault(ctx), awsapi.ResourceNotFound)
	if _, err := s.SetDefault(ctx, "signed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDefault(ctx, "signed"); err != nil {
		t.Fatalf("setting the same default again: %v", err)
	}
	unsigned(t, s, "https://auth.example/open")
	wantCode(t, func() error { _, err := s.SetDefault(ctx, "open"); return err }(), awsapi.ResourceAlreadyExists)
	wantCode(t, func() error { _, err := s.SetDefault(ctx, "nope"); return err }(), awsapi.ResourceNotFound)
	if d, err := s.Default(ctx); err != nil || d.Name != "signed" {
		t.Fatalf("default %v %v", d.Name, err)
	}
	wantCode(t, s.Delete(ctx, "signed"), awsapi.DeleteConflict) // the default
	if err := s.ClearDefault(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "signed"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := s.Get(ctx, "signed"); return err }(), awsapi.ResourceNotFound)
	wantCode(t, s.Delete(ctx, "signed"), awsapi.ResourceNotFound)
	wantCode(t, func() error { _, err := s.Update(ctx, "signed", Update{}); return err }(), awsapi.ResourceNotFound)

	want := []string{"signed", "signed", "signed", "signed"} // update, set default, clear default, delete
	if !slices.Equal(changes, want) {
		t.Fatalf("OnChange calls %q, want %q", changes, want)
	}
}

// TestService_List checks order, status filter and paging.
func TestService_List(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		st := Active
		if n == "b" || n == "d" {
			st = Inactive
		}
		if _, err := s.Create(ctx, n, Config{FunctionARN: "https://f.example/", SigningDisabled: true, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	all := func(q ListQuery) []string {
		var out []string
		for i := 0; ; i++ {
			page, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if q.PageSize > 0 && len(page) > q.PageSize {
				t.Fatalf("page of %d, size %d", len(page), q.PageSize)
			}
			out = append(out, names(page)...)
			if next == "" || i > 10 {
				return out
			}
			q.Marker = next
		}
	}
	for _, tc := range []struct {
		q    ListQuery
		want string
	}{
		{ListQuery{Ascending: true}, "a b c d e"},
		{ListQuery{}, "e d c b a"},
		{ListQuery{Ascending: true, PageSize: 2}, "a b c d e"},
		{ListQuery{PageSize: 2}, "e d c b a"},
		{ListQuery{Ascending: true, Status: Active, PageSize: 1}, "a c e"},
		{ListQuery{Status: Inactive}, "d b"},
	} {
		if got := strings.Join(all(tc.q), " "); got != tc.want {
			t.Errorf("List(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
	if _, _, err := s.List(ctx, ListQuery{Marker: "!!"}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("bad marker: %v", err)
	}
}

// TestService_Create_badInput checks that each bad configuration is an
// InvalidRequestException and stores nothing.
func TestService_Create_badInput(t *testing.T) {
	key := authorizertest.KeyPEM(t, 2048)
	short := authorizertest.KeyPEM(t, 1024)
	good := func() Config {
		return Config{FunctionARN: "https://auth.example/fn", TokenKeyName: "tok", SigningKeys: map[string]string{"k": key}}
	}
	tests := map[string]struct {
		name   string
		change func(c *Config)
		says   string
	}{
		"empty name":         {name: "", says: "authorizerName"},
		"bad name":           {name: "a/b", says: `[\w=,@-]+`},
		"long name":          {name: strings.Repeat("a", 129), says: "1 to 128"},
		"no function":        {change: func(c *Config) { c.FunctionARN = "" }, says: "authorizerFunctionArn is required"},
		"ftp function":       {change: func(c *Config) { c.FunctionARN = "ftp://x.example/" }, says: "http:// or https://"},
		"not a URL":          {change: func(c *Config) { c.FunctionARN = "my-function" }, says: "moat cannot run AWS Lambda"},
		"URL without host":   {change: func(c *Config) { c.FunctionARN = "https:///path" }, says: "http:// or https://"},
		"bad status":         {change: func(c *Config) { c.Status = "ON" }, says: "ACTIVE or INACTIVE"},
		"bad token key name": {change: func(c *Config) { c.TokenKeyName = "a.b" }, says: "tokenKeyName"},
		"no token key name":  {change: func(c *Config) { c.TokenKeyName = "" }, says: "tokenKeyName is required"},
		"no keys":            {change: func(c *Config) { c.SigningKeys = nil }, says: "at least one key"},
		"bad key name":       {change: func(c *Config) { c.SigningKeys = map[string]string{"a b": key} }, says: "key name"},
		"not PEM":            {change: func(c *Config) { c.SigningKeys = map[string]string{"k": "MIIBIjAN"} }, says: "not a PEM"},
		"short RSA key":      {change: func(c *Config) { c.SigningKeys = map[string]string{"k": short} }, says: "1024 bits"},
		"EC key":             {change: func(c *Config) { c.SigningKeys = map[string]string{"k": ecKeyPEM(t)} }, says: "RSA key is required"},
		"certificate PEM": {change: func(c *Config) {
			c.SigningKeys = map[string]string{"k": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
		}, says: "not a public key"},
		"two PEM blocks": {change: func(c *Config) { c.SigningKeys = map[string]string{"k": key + key} }, says: "more than one"},
		"too many keys": {change: func(c *Config) {
			c.SigningKeys = map[string]string{"a": key, "b": key, "c": key, "d": key, "e": key, "f": key}
		}, says: "at most 5"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := newService(t, Options{})
			c := good()
			if tc.change != nil {
				c.change(tc.change)
			}
			n := tc.name
			if n == "" && tc.change != nil {
				n = "a1"
			}
			_, err := s.Create(context.Background(), n, c)
			wantCode(t, err, awsapi.InvalidRequest)
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if got, _, _ := s.List(context.Background(), ListQuery{}); len(got) != 0 {
				t.Errorf("stored %v", names(got))
			}
		})
	}
}

func (c *Config) change(f func(*Config)) { f(c) }

// TestService_Create_allowList checks that Options.AllowURL decides the
// function URLs, and that a Lambda ARN is accepted (but see
// TestService_Authenticate_lambda).
func TestService_Create_allowList(t *testing.T) {
	s := newService(t, Options{AllowURL: func(u *url.URL) error {
		if u.Host != "auth.internal" {
			return errors.New("not on the list")
		}
		return nil
	}})
	ctx := context.Background()
	_, err := s.Create(ctx, "x", Config{FunctionARN: "https://evil.example/", SigningDisabled: true})
	wantCode(t, err, awsapi.InvalidRequest)
	if !strings.Contains(err.Error(), "not on the list") {
		t.Fatalf("error %v", err)
	}
	if _, err := s.Create(ctx, "y", Config{FunctionARN: "https://auth.internal/fn", SigningDisabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "z", Config{FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:auth", SigningDisabled: true}); err != nil {
		t.Fatal(err)
	}
	// An update to a refused URL changes nothing.
	bad := "https://evil.example/"
	_, err = s.Update(ctx, "y", Update{FunctionARN: &bad})
	wantCode(t, err, awsapi.InvalidRequest)
	if a, _ := s.Get(ctx, "y"); a.FunctionARN != "https://auth.internal/fn" {
		t.Fatalf("function became %s", a.FunctionARN)
	}
}

// TestService_limits checks the quotas of authorizers and of ACTIVE ones.
func TestService_limits(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{MaxActive: 2, MaxAuthorizers: 3})
	mk := func(name string, st Status) error {
		_, err := s.Create(ctx, name, Config{FunctionARN: "https://f.example/", SigningDisabled: true, Status: st})
		return err
	}
	if err := errors.Join(mk("a", Active), mk("b", Active)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, mk("c", Active), awsapi.LimitExceeded)
	if err := mk("c", Inactive); err != nil {
		t.Fatal(err)
	}
	wantCode(t, mk("d", Inactive), awsapi.LimitExceeded)
	_, err := s.Update(ctx, "c", Update{Status: Active})
	wantCode(t, err, awsapi.LimitExceeded)
	if a, _ := s.Get(ctx, "c"); a.Status != Inactive {
		t.Fatalf("c is %s", a.Status)
	}
	// Updating an already ACTIVE one is not an activation.
	if _, err := s.Update(ctx, "a", Update{Status: Active}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "a", Update{Status: Inactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "c", Update{Status: Active}); err != nil {
		t.Fatal(err)
	}
}

// TestService_Update_signing checks that an update may not leave a
// signing-enabled authorizer without keys or a token key name.
func TestService_Update_signing(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Options{})
	signed(t, s, "https://f.example/")
	_, err := s.Update(ctx, "signed", Update{SigningKeys: map[string]string{}})
	wantCode(t, err, awsapi.InvalidRequest)
	empty := ""
	_, err = s.Update(ctx, "signed", Update{TokenKeyName: &empty})
	wantCode(t, err, awsapi.InvalidRequest)
	if a, _ := s.Get(ctx, "signed"); len(a.SigningKeys) != 1 || a.TokenKeyName != "token" {
		t.Fatalf("after refused updates %+v", a)
	}
	on := true
	a, err := s.Update(ctx, "signed", Update{EnableCachingForHTTP: &on, SigningKeys: map[string]string{"k2": authorizertest.KeyPEM(t, 2048)}})
	if err != nil || !a.EnableCachingForHTTP || a.SigningKeys["k2"] == "" || a.SigningKeys["k1"] != "" {
		t.Fatalf("update %+v %v", a, err)
	}
}

// TestNew_badOptions checks that New refuses negative limits and a CA
// file that is missing or holds no certificate.
func TestNew_badOptions(t *testing.T) {
	st := newStore(t)
	for name, o := range map[string]Options{
		"negative timeout": {Timeout: -1},
		"missing CA file":  {CAFile: t.TempDir() + "/none.pem"},
		"CA file no PEM":   {CAFile: writeFile(t, "ca.pem", "hello")},
	} {
		if _, err := New(st, testARNs, o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
