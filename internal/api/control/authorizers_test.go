package control

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
)

// authzFixture serves the authorizer operations over a real authorizer
// service.
type authzFixture struct {
	*TestServer
	svc *authorizer.Service
}

func newAuthzFixture(t *testing.T, opts authorizer.Options) *authzFixture {
	t.Helper()
	opts.Logger = quiet()
	arns := arn.Builder{Region: "us-east-1", Account: "000000000000"}
	svc, err := authorizer.New(NewTestStore(t), arns, opts)
	if err != nil {
		t.Fatal(err)
	}
	a := &API{Authorizers: svc, ARNs: arns}
	return &authzFixture{TestServer: NewTestServer(t, a.authorizerOperations()), svc: svc}
}

func wantAPIError[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want %T", err, e)
	}
	return e
}

// listNames lists every authorizer name, ascending.
func (f *authzFixture) listNames(t *testing.T) string {
	t.Helper()
	out, err := f.Client.ListAuthorizers(context.Background(), &iot.ListAuthorizersInput{AscendingOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, a := range out.Authorizers {
		ns = append(ns, aws.ToString(a.AuthorizerName))
	}
	return strings.Join(ns, " ")
}

const authzARN = "arn:aws:iot:us-east-1:000000000000:authorizer/"

// TestAuthorizerOperations_lifecycle drives the nine operations through
// the SDK: create, describe, list, update, the default authorizer and
// delete, with the errors AWS answers on the way, and checks the resource
// each operation is authorized on.
func TestAuthorizerOperations_lifecycle(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t, authorizer.Options{})
	key := authorizertest.KeyPEM(t, 2048)

	out, err := f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String("tokens"), AuthorizerFunctionArn: aws.String("https://auth.example/fn"),
		TokenKeyName: aws.String("x-token"), TokenSigningPublicKeys: map[string]string{"k1": key},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("iot")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.AuthorizerArn) != authzARN+"tokens" || aws.ToString(out.AuthorizerName) != "tokens" {
		t.Fatalf("create: %+v", out)
	}
	_, err = f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String("tokens"), AuthorizerFunctionArn: aws.String("https://auth.example/fn"), SigningDisabled: aws.Bool(true),
	})
	if e := wantAPIError[*types.ResourceAlreadyExistsException](t, err); aws.ToString(e.ResourceArn) != authzARN+"tokens" {
		t.Errorf("already exists: %+v", e)
	}
	if _, err := f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String("open"), AuthorizerFunctionArn: aws.String("http://127.0.0.1:9/"),
		SigningDisabled: aws.Bool(true), Status: types.AuthorizerStatusInactive, EnableCachingForHttp: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}

	d, err := f.Client.DescribeAuthorizer(ctx, &iot.DescribeAuthorizerInput{AuthorizerName: aws.String("tokens")})
	if err != nil {
		t.Fatal(err)
	}
	ad := d.AuthorizerDescription
	if aws.ToString(ad.AuthorizerArn) != authzARN+"tokens" || aws.ToString(ad.AuthorizerFunctionArn) != "https://auth.example/fn" ||
		aws.ToString(ad.TokenKeyName) != "x-token" || ad.TokenSigningPublicKeys["k1"] != key || ad.Status != types.AuthorizerStatusActive ||
		aws.ToBool(ad.SigningDisabled) || aws.ToBool(ad.EnableCachingForHttp) || ad.CreationDate == nil || ad.LastModifiedDate == nil {
		t.Fatalf("describe: %+v", ad)
	}

	if got := f.listNames(t); got != "open tokens" {
		t.Errorf("list: %q", got)
	}
	page1, err := f.Client.ListAuthorizers(ctx, &iot.ListAuthorizersInput{PageSize: aws.Int32(1), Status: types.AuthorizerStatusActive})
	if err != nil || len(page1.Authorizers) != 1 || aws.ToString(page1.Authorizers[0].AuthorizerName) != "tokens" {
		t.Fatalf("list ACTIVE: %+v %v", page1, err)
	}
	// The SDK sends isAscendingOrder only when true (absent is
	// ascending, as ListPolicies); descending order needs it false.
	var desc listAuthorizersOutput
	res, err := http.Get(f.URL + "/authorizers/?isAscendingOrder=false&pageSize=1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&desc)
	res.Body.Close()
	if len(desc.Authorizers) != 1 || desc.Authorizers[0].AuthorizerName != "tokens" || desc.NextMarker == "" {
		t.Fatalf("list descending: %+v", desc)
	}
	res, err = http.Get(f.URL + "/authorizers/?isAscendingOrder=false&pageSize=1&marker=" + url.QueryEscape(desc.NextMarker))
	if err != nil {
		t.Fatal(err)
	}
	var rest listAuthorizersOutput
	json.NewDecoder(res.Body).Decode(&rest)
	res.Body.Close()
	if len(rest.Authorizers) != 1 || rest.Authorizers[0].AuthorizerName != "open" || rest.NextMarker != "" {
		t.Fatalf("list page 2: %+v", rest)
	}
	asc, err := f.Client.ListAuthorizers(ctx, &iot.ListAuthorizersInput{PageSize: aws.Int32(1)})
	if err != nil || aws.ToString(asc.Authorizers[0].AuthorizerName) != "open" || asc.NextMarker == nil {
		t.Fatalf("list ascending: %+v %v", asc, err)
	}
	next, err := f.Client.ListAuthorizers(ctx, &iot.ListAuthorizersInput{PageSize: aws.Int32(1), Marker: asc.NextMarker})
	if err != nil || aws.ToString(next.Authorizers[0].AuthorizerName) != "tokens" || next.NextMarker != nil {
		t.Fatalf("list ascending page 2: %+v %v", next, err)
	}
	_, err = f.Client.ListAuthorizers(ctx, &iot.ListAuthorizersInput{Marker: aws.String("bm9wZQ==!")})
	wantAPIError[*types.InvalidRequestException](t, err)

	_, err = f.Client.DeleteAuthorizer(ctx, &iot.DeleteAuthorizerInput{AuthorizerName: aws.String("tokens")})
	wantAPIError[*types.DeleteConflictException](t, err)
	up, err := f.Client.UpdateAuthorizer(ctx, &iot.UpdateAuthorizerInput{
		AuthorizerName: aws.String("tokens"), Status: types.AuthorizerStatusInactive, AuthorizerFunctionArn: aws.String("https://auth.example/v2"),
	})
	if err != nil || aws.ToString(up.AuthorizerArn) != authzARN+"tokens" {
		t.Fatalf("update: %+v %v", up, err)
	}
	d, _ = f.Client.DescribeAuthorizer(ctx, &iot.DescribeAuthorizerInput{AuthorizerName: aws.String("tokens")})
	if d.AuthorizerDescription.Status != types.AuthorizerStatusInactive || aws.ToString(d.AuthorizerDescription.AuthorizerFunctionArn) != "https://auth.example/v2" ||
		aws.ToString(d.AuthorizerDescription.TokenKeyName) != "x-token" {
		t.Fatalf("after update: %+v", d.AuthorizerDescription)
	}

	_, err = f.Client.DescribeDefaultAuthorizer(ctx, &iot.DescribeDefaultAuthorizerInput{})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	sd, err := f.Client.SetDefaultAuthorizer(ctx, &iot.SetDefaultAuthorizerInput{AuthorizerName: aws.String("tokens")})
	if err != nil || aws.ToString(sd.AuthorizerArn) != authzARN+"tokens" {
		t.Fatalf("set default: %+v %v", sd, err)
	}
	_, err = f.Client.SetDefaultAuthorizer(ctx, &iot.SetDefaultAuthorizerInput{AuthorizerName: aws.String("open")})
	wantAPIError[*types.ResourceAlreadyExistsException](t, err)
	dd, err := f.Client.DescribeDefaultAuthorizer(ctx, &iot.DescribeDefaultAuthorizerInput{})
	if err != nil || aws.ToString(dd.AuthorizerDescription.AuthorizerName) != "tokens" {
		t.Fatalf("describe default: %+v %v", dd, err)
	}
	_, err = f.Client.DeleteAuthorizer(ctx, &iot.DeleteAuthorizerInput{AuthorizerName: aws.String("tokens")})
	wantAPIError[*types.DeleteConflictException](t, err) // the default
	if _, err := f.Client.ClearDefaultAuthorizer(ctx, &iot.ClearDefaultAuthorizerInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Client.ClearDefaultAuthorizer(ctx, &iot.ClearDefaultAuthorizerInput{})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	if _, err := f.Client.DeleteAuthorizer(ctx, &iot.DeleteAuthorizerInput{AuthorizerName: aws.String("tokens")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Client.DescribeAuthorizer(ctx, &iot.DescribeAuthorizerInput{AuthorizerName: aws.String("tokens")})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	if got := f.listNames(t); got != "open" {
		t.Errorf("list after delete: %q", got)
	}

	// Each operation was authorized on its resource.
	want := map[string]string{
		"iot:CreateAuthorizer":          authzARN + "tokens",
		"iot:DescribeAuthorizer":        authzARN + "tokens",
		"iot:UpdateAuthorizer":          authzARN + "tokens",
		"iot:DeleteAuthorizer":          authzARN + "tokens",
		"iot:SetDefaultAuthorizer":      authzARN + "tokens",
		"iot:ListAuthorizers":           "*",
		"iot:DescribeDefaultAuthorizer": "*",
		"iot:ClearDefaultAuthorizer":    "*",
	}
	seen := map[string]bool{}
	for _, c := range f.Asked() {
		action, resource, _ := strings.Cut(c, " ")
		if w, ok := want[action]; ok && !seen[action] {
			seen[action] = true
			if resource != w {
				t.Errorf("%s authorized on %q, want %q", action, resource, w)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("authorized actions %v, want all of %v", seen, want)
	}
}

// TestAuthorizerOperations_badInput checks that bad input is refused with
// InvalidRequestException (or ResourceNotFoundException for an authorizer
// that does not exist) and changes nothing.
func TestAuthorizerOperations_badInput(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t, authorizer.Options{})
	key := authorizertest.KeyPEM(t, 2048)
	if _, err := f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String("keep"), AuthorizerFunctionArn: aws.String("https://auth.example/fn"),
		TokenKeyName: aws.String("tok"), TokenSigningPublicKeys: map[string]string{"k": key}, Status: types.AuthorizerStatusInactive,
	}); err != nil {
		t.Fatal(err)
	}
	create := func(mod func(in *iot.CreateAuthorizerInput)) error {
		in := &iot.CreateAuthorizerInput{
			AuthorizerName: aws.String("new"), AuthorizerFunctionArn: aws.String("https://auth.example/fn"),
			TokenKeyName: aws.String("tok"), TokenSigningPublicKeys: map[string]string{"k": key},
		}
		mod(in)
		_, err := f.Client.CreateAuthorizer(ctx, in)
		return err
	}
	for name, mod := range map[string]func(in *iot.CreateAuthorizerInput){
		"bad PEM": func(in *iot.CreateAuthorizerInput) { in.TokenSigningPublicKeys = map[string]string{"k": "not a key"} },
		"short RSA key": func(in *iot.CreateAuthorizerInput) {
			in.TokenSigningPublicKeys = map[string]string{"k": authorizertest.KeyPEM(t, 1024)}
		},
		"no keys":  func(in *iot.CreateAuthorizerInput) { in.TokenSigningPublicKeys = nil },
		"bad URL":  func(in *iot.CreateAuthorizerInput) { in.AuthorizerFunctionArn = aws.String("ftp://auth.example/") },
		"bad name": func(in *iot.CreateAuthorizerInput) { in.AuthorizerName = aws.String("no spaces") },
		"bad tag": func(in *iot.CreateAuthorizerInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}
		},
	} {
		if err := create(mod); err == nil {
			t.Errorf("%s: created", name)
		} else {
			wantAPIError[*types.InvalidRequestException](t, err)
		}
	}
	_, err := f.Client.UpdateAuthorizer(ctx, &iot.UpdateAuthorizerInput{AuthorizerName: aws.String("keep"),
		TokenSigningPublicKeys: map[string]string{"k": authorizertest.KeyPEM(t, 1024)}, Status: types.AuthorizerStatusActive})
	wantAPIError[*types.InvalidRequestException](t, err)
	_, err = f.Client.UpdateAuthorizer(ctx, &iot.UpdateAuthorizerInput{AuthorizerName: aws.String("keep"), AuthorizerFunctionArn: aws.String("not a url")})
	wantAPIError[*types.InvalidRequestException](t, err)

	_, err = f.Client.UpdateAuthorizer(ctx, &iot.UpdateAuthorizerInput{AuthorizerName: aws.String("ghost"), Status: types.AuthorizerStatusActive})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = f.Client.DeleteAuthorizer(ctx, &iot.DeleteAuthorizerInput{AuthorizerName: aws.String("ghost")})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = f.Client.SetDefaultAuthorizer(ctx, &iot.SetDefaultAuthorizerInput{AuthorizerName: aws.String("ghost")})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = f.Client.TestInvokeAuthorizer(ctx, &iot.TestInvokeAuthorizerInput{AuthorizerName: aws.String("ghost"), Token: aws.String("t")})
	wantAPIError[*types.ResourceNotFoundException](t, err)

	if got := f.listNames(t); got != "keep" {
		t.Fatalf("authorizers %q", got)
	}
	d, err := f.Client.DescribeAuthorizer(ctx, &iot.DescribeAuthorizerInput{AuthorizerName: aws.String("keep")})
	if err != nil || d.AuthorizerDescription.Status != types.AuthorizerStatusInactive || d.AuthorizerDescription.TokenSigningPublicKeys["k"] != key ||
		aws.ToString(d.AuthorizerDescription.AuthorizerFunctionArn) != "https://auth.example/fn" {
		t.Fatalf("keep changed: %+v %v", d.AuthorizerDescription, err)
	}
	if _, err := f.Client.DescribeDefaultAuthorizer(ctx, &iot.DescribeDefaultAuthorizerInput{}); err == nil {
		t.Fatal("a default authorizer was set")
	}
}

// TestAuthorizerOperations_limit checks LimitExceededException for one
// ACTIVE authorizer too many.
func TestAuthorizerOperations_limit(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t, authorizer.Options{MaxActive: 1})
	mk := func(name string) error {
		_, err := f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{AuthorizerName: aws.String(name),
			AuthorizerFunctionArn: aws.String("https://auth.example/fn"), SigningDisabled: aws.Bool(true)})
		return err
	}
	if err := mk("one"); err != nil {
		t.Fatal(err)
	}
	wantAPIError[*types.LimitExceededException](t, mk("two"))
	if got := f.listNames(t); got != "one" {
		t.Fatalf("authorizers %q", got)
	}
}

// TestAuthorizerOperations_testInvoke checks TestInvokeAuthorizer: the
// event the function gets from each context, the answer returned, and the
// errors of a bad signature (function not called), a failing function and
// a denial.
func TestAuthorizerOperations_testInvoke(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t, authorizer.Options{})
	var calls atomic.Int32
	var mu sync.Mutex
	var event map[string]any
	answer := `{"isAuthenticated":true,"principalId":"p1","policyDocuments":["{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"],"refreshAfterInSeconds":300,"disconnectAfterInSeconds":600}`
	status := http.StatusOK
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		json.Unmarshal(b, &event)
		st, ans := status, answer
		mu.Unlock()
		w.WriteHeader(st)
		io.WriteString(w, ans)
	}))
	t.Cleanup(fn.Close)
	if _, err := f.Client.CreateAuthorizer(ctx, &iot.CreateAuthorizerInput{
		AuthorizerName: aws.String("tokens"), AuthorizerFunctionArn: aws.String(fn.URL),
		TokenKeyName: aws.String("tok"), TokenSigningPublicKeys: map[string]string{"k": authorizertest.KeyPEM(t, 2048)},
	}); err != nil {
		t.Fatal(err)
	}
	in := &iot.TestInvokeAuthorizerInput{
		AuthorizerName: aws.String("tokens"), Token: aws.String("abc"), TokenSignature: aws.String(authorizertest.Sign(t, "abc")),
		HttpContext: &types.HttpContext{Headers: map[string]string{"X-Custom": "1"}, QueryString: aws.String("?a=b")},
		MqttContext: &types.MqttContext{Username: aws.String("user"), Password: []byte("pass\xff"), ClientId: aws.String("cid")},
		TlsContext:  &types.TlsContext{ServerName: aws.String("iot.example")},
	}
	out, err := f.Client.TestInvokeAuthorizer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.IsAuthenticated) || aws.ToString(out.PrincipalId) != "p1" || len(out.PolicyDocuments) != 1 ||
		aws.ToInt32(out.RefreshAfterInSeconds) != 300 || aws.ToInt32(out.DisconnectAfterInSeconds) != 600 {
		t.Fatalf("output %+v", out)
	}
	mu.Lock()
	ev := event
	mu.Unlock()
	pd := ev["protocolData"].(map[string]any)
	got := fmt.Sprint(ev["token"], ev["signatureVerified"], ev["protocols"], pd["tls"], pd["http"], pd["mqtt"])
	want := fmt.Sprint("abc", true, []any{"tls", "http", "mqtt"}, map[string]any{"serverName": "iot.example"},
		map[string]any{"headers": map[string]any{"x-custom": "1"}, "queryString": "?a=b"},
		map[string]any{"username": "user", "password": base64.StdEncoding.EncodeToString([]byte("pass\xff")), "clientId": "cid"})
	if got != want {
		t.Errorf("event\n got %s\nwant %s", got, want)
	}

	// A signature that does not verify: the function is not called.
	n := calls.Load()
	in.TokenSignature = aws.String(authorizertest.Sign(t, "other"))
	_, err = f.Client.TestInvokeAuthorizer(ctx, in)
	if e := wantAPIError[*types.InvalidRequestException](t, err); !strings.Contains(aws.ToString(e.Message), "signature") {
		t.Errorf("message %q", aws.ToString(e.Message))
	}
	if calls.Load() != n {
		t.Error("the function was called for a bad signature")
	}
	in.TokenSignature = aws.String(authorizertest.Sign(t, "abc"))

	mu.Lock()
	status, answer = http.StatusInternalServerError, "boom"
	mu.Unlock()
	_, err = f.Client.TestInvokeAuthorizer(ctx, in)
	if e := wantAPIError[*types.InvalidResponseException](t, err); !strings.Contains(aws.ToString(e.Message), "HTTP 500. The function answered: boom") {
		t.Errorf("message %q", aws.ToString(e.Message))
	}

	mu.Lock()
	status, answer = http.StatusOK, `{"isAuthenticated":true,"principalId":"p1","refreshAfterInSeconds":5}`
	mu.Unlock()
	_, err = f.Client.TestInvokeAuthorizer(ctx, in)
	if e := wantAPIError[*types.InvalidResponseException](t, err); !strings.Contains(aws.ToString(e.Message), "refreshAfterInSeconds") {
		t.Errorf("message %q", aws.ToString(e.Message))
	}

	mu.Lock()
	answer = `{"isAuthenticated":false}`
	mu.Unlock()
	out, err = f.Client.TestInvokeAuthorizer(ctx, in)
	if err != nil || aws.ToBool(out.IsAuthenticated) || len(out.PolicyDocuments) != 0 {
		t.Fatalf("denial: %+v %v", out, err)
	}

	_, err = f.Client.TestInvokeAuthorizer(ctx, &iot.TestInvokeAuthorizerInput{AuthorizerName: aws.String("tokens"), Token: aws.String(strings.Repeat("t", 6145))})
	wantAPIError[*types.InvalidRequestException](t, err)
}
