package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/rules"
	"github.com/moat-iot/moat/internal/store"
)

// fakeRules is a control.RuleService of func fields; a method whose field
// is nil fails the test that calls it (the handler should not have).
type fakeRules struct {
	t          *testing.T
	create     func(name string, p rules.Payload, tags map[string]string) error
	get        func(name string) (rules.Rule, error)
	replace    func(name string, p rules.Payload) error
	delete     func(name string) error
	list       func(topic string, disabled *bool, p store.Page) ([]rules.Rule, string, error)
	setEnabled func(name string, enabled bool) error
}

var _ control.RuleService = (*fakeRules)(nil)

var errUnexpected = errors.New("fakeRules: unexpected call")

func (f *fakeRules) unexpected(method string) error {
	f.t.Errorf("unexpected call of RuleService.%s", method)
	return errUnexpected
}

func (f *fakeRules) Create(_ context.Context, name string, p rules.Payload, tags map[string]string) error {
	if f.create == nil {
		return f.unexpected("Create")
	}
	return f.create(name, p, tags)
}

func (f *fakeRules) Get(_ context.Context, name string) (rules.Rule, error) {
	if f.get == nil {
		return rules.Rule{}, f.unexpected("Get")
	}
	return f.get(name)
}

func (f *fakeRules) Replace(_ context.Context, name string, p rules.Payload) error {
	if f.replace == nil {
		return f.unexpected("Replace")
	}
	return f.replace(name, p)
}

func (f *fakeRules) Delete(_ context.Context, name string) error {
	if f.delete == nil {
		return f.unexpected("Delete")
	}
	return f.delete(name)
}

func (f *fakeRules) List(_ context.Context, topic string, disabled *bool, p store.Page) ([]rules.Rule, string, error) {
	if f.list == nil {
		return nil, "", f.unexpected("List")
	}
	return f.list(topic, disabled, p)
}

func (f *fakeRules) SetEnabled(_ context.Context, name string, enabled bool) error {
	if f.setEnabled == nil {
		return f.unexpected("SetEnabled")
	}
	return f.setEnabled(name, enabled)
}

// ruleRouter is the control plane with svc as its rule service (nil:
// none), every caller the administrator.
func ruleRouter(svc control.RuleService) http.Handler {
	a := &control.API{Rules: svc, ARNs: arn.Builder{Region: "us-east-1", Account: "000000000000"}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return api.NewRouter(api.Options{MaxBody: 1 << 20, Logger: quiet}, api.Group{
		Prefix: "iot:",
		Authenticate: func(context.Context, *http.Request, []byte) (auth.Principal, error) {
			return auth.Principal{Kind: auth.KindUser, UserName: auth.AdminUser}, nil
		},
		Authorize:  func(context.Context, auth.Principal, string, string, *api.Request) error { return nil },
		Operations: a.Operations(),
	})
}

// ruleServer serves ruleRouter(svc) over plain HTTP and returns an SDK
// client for it (no retries) and its URL.
func ruleServer(t *testing.T, svc control.RuleService) (*iot.Client, string) {
	t.Helper()
	srv := httptest.NewServer(ruleRouter(svc))
	t.Cleanup(srv.Close)
	c := iot.New(iot.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer:      aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
	return c, srv.URL
}

// rawRule sends a request without the SDK and returns the status, the
// error code header and the body.
func rawRule(t *testing.T, base, method, path string, body string, hdr map[string]string) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b
}

// jsonEqual fails unless the JSON texts got and want are the same value.
func jsonEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want %q is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// samplePayload is a payload with every member set, as the SDK takes it.
func samplePayload() *types.TopicRulePayload {
	return &types.TopicRulePayload{
		Sql:              aws.String("SELECT temp FROM 'sensors/+/data' WHERE temp > 30"),
		Description:      aws.String("hot sensors"),
		AwsIotSqlVersion: aws.String("2016-03-23"),
		RuleDisabled:     aws.Bool(true),
		Actions: []types.Action{
			{Republish: &types.RepublishAction{Topic: aws.String("alerts/${topic(2)}"), Qos: aws.Int32(1), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}},
			{Http: &types.HttpAction{Url: aws.String("https://example.com/hook")}},
		},
		ErrorAction: &types.Action{Republish: &types.RepublishAction{Topic: aws.String("errors"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}},
	}
}

// wantSamplePayload checks that p is samplePayload as the handler decoded it.
func wantSamplePayload(t *testing.T, p rules.Payload) {
	t.Helper()
	if p.SQL != "SELECT temp FROM 'sensors/+/data' WHERE temp > 30" || p.Description != "hot sensors" ||
		p.AWSIoTSQLVersion != "2016-03-23" || !p.RuleDisabled || len(p.Actions) != 2 {
		t.Fatalf("payload = %+v", p)
	}
	jsonEqual(t, "actions[0]", p.Actions[0], `{"republish":{"topic":"alerts/${topic(2)}","qos":1,"roleArn":"arn:aws:iam::000000000000:role/r"}}`)
	jsonEqual(t, "actions[1]", p.Actions[1], `{"http":{"url":"https://example.com/hook"}}`)
	jsonEqual(t, "errorAction", p.ErrorAction, `{"republish":{"topic":"errors","roleArn":"arn:aws:iam::000000000000:role/r"}}`)
}

// TestTopicRule_Create checks CreateTopicRule's decoding from the SDK: the
// name from the path, every payload member from the body, and the tags
// from the x-amz-tagging header, percent-decoded; no header is no tags.
func TestTopicRule_Create(t *testing.T) {
	type call struct {
		name string
		p    rules.Payload
		tags map[string]string
	}
	var calls []call
	f := &fakeRules{t: t, create: func(name string, p rules.Payload, tags map[string]string) error {
		calls = append(calls, call{name, p, tags})
		return nil
	}}
	c, _ := ruleServer(t, f)
	ctx := context.Background()
	_, err := c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{
		RuleName:         aws.String("Hot_Sensors_1"),
		TopicRulePayload: samplePayload(),
		Tags:             aws.String("env=prod&team=a%20b&plus=x+y&amp=%26&empty="),
	})
	if err != nil {
		t.Fatalf("CreateTopicRule: %v", err)
	}
	_, err = c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{
		RuleName:         aws.String("bare"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{}},
	})
	if err != nil {
		t.Fatalf("CreateTopicRule without tags: %v", err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d calls of Create, want 2", len(calls))
	}
	if calls[0].name != "Hot_Sensors_1" {
		t.Fatalf("name = %q", calls[0].name)
	}
	wantSamplePayload(t, calls[0].p)
	wantTags := map[string]string{"env": "prod", "team": "a b", "plus": "x y", "amp": "&", "empty": ""}
	if !reflect.DeepEqual(calls[0].tags, wantTags) {
		t.Fatalf("tags = %v, want %v", calls[0].tags, wantTags)
	}
	bare := calls[1]
	if bare.name != "bare" || bare.p.SQL != "SELECT * FROM 'a'" || bare.p.Actions == nil || len(bare.p.Actions) != 0 ||
		bare.p.RuleDisabled || bare.p.ErrorAction != nil || bare.tags != nil {
		t.Fatalf("bare rule: %+v", bare)
	}
}

// TestTopicRule_Get checks GetTopicRule's output as the SDK reads it: the
// ARN, every member of the rule, createdAt in epoch seconds with its
// milliseconds; and on the wire, an empty action list as [] and no
// errorAction member when there is none.
func TestTopicRule_Get(t *testing.T) {
	created := time.UnixMilli(1_700_000_000_123).UTC()
	var asked []string
	f := &fakeRules{t: t, get: func(name string) (rules.Rule, error) {
		asked = append(asked, name)
		if name == "bare" {
			return rules.Rule{Name: name, ARN: "arn:aws:iot:us-east-1:000000000000:rule/bare", CreatedAt: created,
				Payload: rules.Payload{SQL: "SELECT * FROM 'a'", ErrorAction: json.RawMessage("null")}}, nil
		}
		return rules.Rule{
			Name: name, ARN: "arn:aws:iot:us-east-1:000000000000:rule/" + name, CreatedAt: created, Topic: "sensors/+/data",
			Payload: rules.Payload{
				SQL: "SELECT temp FROM 'sensors/+/data'", Description: "d", AWSIoTSQLVersion: "2015-10-08", RuleDisabled: true,
				Actions:     []json.RawMessage{json.RawMessage(`{"republish":{"topic":"out","qos":1,"roleArn":"r"}}`)},
				ErrorAction: json.RawMessage(`{"republish":{"topic":"err","roleArn":"r"}}`),
			},
		}, nil
	}}
	c, base := ruleServer(t, f)
	out, err := c.GetTopicRule(context.Background(), &iot.GetTopicRuleInput{RuleName: aws.String("r1")})
	if err != nil {
		t.Fatalf("GetTopicRule: %v", err)
	}
	r := out.Rule
	if aws.ToString(out.RuleArn) != "arn:aws:iot:us-east-1:000000000000:rule/r1" || r == nil ||
		aws.ToString(r.RuleName) != "r1" || aws.ToString(r.Sql) != "SELECT temp FROM 'sensors/+/data'" ||
		aws.ToString(r.Description) != "d" || aws.ToString(r.AwsIotSqlVersion) != "2015-10-08" ||
		!aws.ToBool(r.RuleDisabled) || r.CreatedAt == nil || !r.CreatedAt.Equal(created) {
		t.Fatalf("GetTopicRule = %+v, rule %+v", out, r)
	}
	if len(r.Actions) != 1 || r.Actions[0].Republish == nil || aws.ToString(r.Actions[0].Republish.Topic) != "out" ||
		aws.ToInt32(r.Actions[0].Republish.Qos) != 1 {
		t.Fatalf("actions = %+v", r.Actions)
	}
	if r.ErrorAction == nil || r.ErrorAction.Republish == nil || aws.ToString(r.ErrorAction.Republish.Topic) != "err" {
		t.Fatalf("errorAction = %+v", r.ErrorAction)
	}

	status, _, body := rawRule(t, base, "GET", "/rules/bare", "", nil)
	if status != 200 {
		t.Fatalf("GET /rules/bare = %d %s", status, body)
	}
	jsonEqual(t, "bare rule", body, `{"ruleArn":"arn:aws:iot:us-east-1:000000000000:rule/bare","rule":{
		"ruleName":"bare","sql":"SELECT * FROM 'a'","createdAt":1700000000.123,"actions":[],"ruleDisabled":false}}`)
	if want := []string{"r1", "bare"}; !reflect.DeepEqual(asked, want) {
		t.Fatalf("Get called with %v, want %v", asked, want)
	}
}

// TestTopicRule_Replace checks ReplaceTopicRule's decoding: the name and
// every payload member, an errorAction of null being none.
func TestTopicRule_Replace(t *testing.T) {
	var got []rules.Payload
	f := &fakeRules{t: t, replace: func(name string, p rules.Payload) error {
		if name != "r1" {
			t.Errorf("Replace(%q)", name)
		}
		got = append(got, p)
		return nil
	}}
	c, base := ruleServer(t, f)
	if _, err := c.ReplaceTopicRule(context.Background(), &iot.ReplaceTopicRuleInput{RuleName: aws.String("r1"), TopicRulePayload: samplePayload()}); err != nil {
		t.Fatalf("ReplaceTopicRule: %v", err)
	}
	status, _, body := rawRule(t, base, "PATCH", "/rules/r1", `{"sql":"SELECT 1 FROM 'x'","actions":[],"errorAction":null}`, nil)
	if status != 200 {
		t.Fatalf("PATCH with a null errorAction = %d %s", status, body)
	}
	if len(got) != 2 {
		t.Fatalf("%d calls of Replace, want 2", len(got))
	}
	wantSamplePayload(t, got[0])
	if got[1].SQL != "SELECT 1 FROM 'x'" || got[1].ErrorAction != nil || got[1].RuleDisabled {
		t.Fatalf("second payload = %+v (errorAction %q)", got[1], got[1].ErrorAction)
	}
}

// TestTopicRule_DeleteEnableDisable checks that DeleteTopicRule,
// EnableTopicRule and DisableTopicRule reach the service with the rule's
// name and, for the latter two, the state asked for.
func TestTopicRule_DeleteEnableDisable(t *testing.T) {
	var calls []string
	f := &fakeRules{t: t,
		delete: func(name string) error { calls = append(calls, "delete "+name); return nil },
		setEnabled: func(name string, enabled bool) error {
			calls = append(calls, fmt.Sprintf("enabled %s %v", name, enabled))
			return nil
		},
	}
	c, _ := ruleServer(t, f)
	ctx := context.Background()
	if _, err := c.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: aws.String("r1")}); err != nil {
		t.Fatalf("DisableTopicRule: %v", err)
	}
	if _, err := c.EnableTopicRule(ctx, &iot.EnableTopicRuleInput{RuleName: aws.String("r_2")}); err != nil {
		t.Fatalf("EnableTopicRule: %v", err)
	}
	if _, err := c.DeleteTopicRule(ctx, &iot.DeleteTopicRuleInput{RuleName: aws.String("R3")}); err != nil {
		t.Fatalf("DeleteTopicRule: %v", err)
	}
	want := []string{"enabled r1 false", "enabled r_2 true", "delete R3"}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
}

// TestTopicRule_List checks ListTopicRules: every query parameter as the
// SDK sends it (topic, maxResults, nextToken, ruleDisabled true, false and
// absent), the items as the SDK reads them, and paging with the SDK's
// paginator until the service's cursor runs out.
func TestTopicRule_List(t *testing.T) {
	created := time.UnixMilli(1_700_000_000_500).UTC()
	type call struct {
		topic    string
		disabled string // "nil", "true", "false"
		page     store.Page
	}
	var calls []call
	f := &fakeRules{t: t, list: func(topic string, disabled *bool, p store.Page) ([]rules.Rule, string, error) {
		d := "nil"
		if disabled != nil {
			d = fmt.Sprint(*disabled)
		}
		calls = append(calls, call{topic, d, p})
		rule := func(name string, off bool) rules.Rule {
			return rules.Rule{Name: name, ARN: "arn:aws:iot:us-east-1:000000000000:rule/" + name, CreatedAt: created,
				Topic: "sensors/#", Payload: rules.Payload{SQL: "SELECT * FROM 'sensors/#'", RuleDisabled: off}}
		}
		switch p.After {
		case "":
			return []rules.Rule{rule("a", false), rule("b", true)}, "cursor/1+=", nil
		case "cursor/1+=":
			return []rules.Rule{rule("c", false)}, "", nil
		}
		return nil, "", fmt.Errorf("bad cursor %q: %w", p.After, store.ErrInvalidCursor)
	}}
	c, _ := ruleServer(t, f)
	ctx := context.Background()

	out, err := c.ListTopicRules(ctx, &iot.ListTopicRulesInput{Topic: aws.String("sensors/#"), MaxResults: aws.Int32(2), RuleDisabled: aws.Bool(true)})
	if err != nil {
		t.Fatalf("ListTopicRules: %v", err)
	}
	if aws.ToString(out.NextToken) != "cursor/1+=" || len(out.Rules) != 2 {
		t.Fatalf("ListTopicRules = %+v", out)
	}
	b := out.Rules[1]
	if aws.ToString(b.RuleName) != "b" || aws.ToString(b.RuleArn) != "arn:aws:iot:us-east-1:000000000000:rule/b" ||
		aws.ToString(b.TopicPattern) != "sensors/#" || !aws.ToBool(b.RuleDisabled) || b.CreatedAt == nil || !b.CreatedAt.Equal(created) {
		t.Fatalf("item = %+v", b)
	}
	if out.Rules[0].RuleDisabled == nil || aws.ToBool(out.Rules[0].RuleDisabled) {
		t.Fatalf("an enabled rule's ruleDisabled = %v, want false", out.Rules[0].RuleDisabled)
	}
	if _, err := c.ListTopicRules(ctx, &iot.ListTopicRulesInput{NextToken: aws.String("cursor/1+="), RuleDisabled: aws.Bool(false)}); err != nil {
		t.Fatalf("ListTopicRules, second page: %v", err)
	}

	// The paginator walks both pages with no filter.
	var names []string
	pg := iot.NewListTopicRulesPaginator(c, &iot.ListTopicRulesInput{MaxResults: aws.Int32(10_000)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("paginator: %v", err)
		}
		for _, r := range page.Rules {
			names = append(names, aws.ToString(r.RuleName))
		}
	}
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("paginated names = %v, want %v", names, want)
	}

	// A cursor the service does not know is the client's mistake.
	_, err = c.ListTopicRules(ctx, &iot.ListTopicRulesInput{NextToken: aws.String("forged")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Fatalf("forged nextToken: %v, want InvalidRequestException", err)
	}

	want := []call{
		{"sensors/#", "true", store.Page{Limit: 2}},
		{"", "false", store.Page{After: "cursor/1+="}},
		{"", "nil", store.Page{Limit: 10_000}},
		{"", "nil", store.Page{After: "cursor/1+=", Limit: 10_000}},
		{"", "nil", store.Page{After: "forged"}},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("List calls:\n got %+v\nwant %+v", calls, want)
	}
}

// TestTopicRule_Errors checks that the service's errors reach the SDK as
// the typed errors of each operation's model, with their statuses; an
// unexpected error (or an InternalFailureException) is the rule
// operations' InternalException 500, its text not sent.
func TestTopicRule_Errors(t *testing.T) {
	var next error
	f := &fakeRules{t: t,
		create:     func(string, rules.Payload, map[string]string) error { return next },
		get:        func(string) (rules.Rule, error) { return rules.Rule{}, next },
		replace:    func(string, rules.Payload) error { return next },
		delete:     func(string) error { return next },
		list:       func(string, *bool, store.Page) ([]rules.Rule, string, error) { return nil, "", next },
		setEnabled: func(string, bool) error { return next },
	}
	c, _ := ruleServer(t, f)
	ctx := context.Background()
	name := aws.String("r1")
	payload := &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{}}
	ops := map[string]func() error{
		"Create": func() error {
			_, err := c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: name, TopicRulePayload: payload})
			return err
		},
		"Get": func() error {
			_, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: name})
			return err
		},
		"Replace": func() error {
			_, err := c.ReplaceTopicRule(ctx, &iot.ReplaceTopicRuleInput{RuleName: name, TopicRulePayload: payload})
			return err
		},
		"Delete": func() error {
			_, err := c.DeleteTopicRule(ctx, &iot.DeleteTopicRuleInput{RuleName: name})
			return err
		},
		"List": func() error {
			_, err := c.ListTopicRules(ctx, &iot.ListTopicRulesInput{})
			return err
		},
		"Enable": func() error {
			_, err := c.EnableTopicRule(ctx, &iot.EnableTopicRuleInput{RuleName: name})
			return err
		},
		"Disable": func() error {
			_, err := c.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: name})
			return err
		},
	}
	tests := []struct {
		name   string
		ops    []string
		err    error
		status int
		is     func(error) bool // the SDK's typed error
	}{
		// A name in use.
		{"already exists", []string{"Create"},
			&awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Rule r1 already exists.", ResourceID: "r1", ResourceARN: "arn:aws:iot:us-east-1:000000000000:rule/r1"},
			409, func(err error) bool {
				var e *types.ResourceAlreadyExistsException
				return errors.As(err, &e) && aws.ToString(e.ResourceId) == "r1" && aws.ToString(e.ResourceArn) == "arn:aws:iot:us-east-1:000000000000:rule/r1"
			}},
		// SQL that does not parse.
		{"sql parse", []string{"Create", "Replace"}, awsapi.Errorf(awsapi.SQLParse, "Expected FROM at 1:9."),
			400, func(err error) bool {
				var e *types.SqlParseException
				return errors.As(err, &e) && aws.ToString(e.Message) == "Expected FROM at 1:9."
			}},
		// Actions the service refuses.
		{"invalid", []string{"Create", "Replace"}, awsapi.Errorf(awsapi.InvalidRequest, "actions[0]: unknown action."),
			400, func(err error) bool { var e *types.InvalidRequestException; return errors.As(err, &e) }},
		// A rule that does not exist, as AWS answers it.
		{"no rule", []string{"Get", "Replace", "Delete", "Enable", "Disable"}, awsapi.Errorf(awsapi.Unauthorized, "Rule r1 does not exist."),
			401, func(err error) bool { var e *types.UnauthorizedException; return errors.As(err, &e) }},
		// Two updates of one rule at once.
		{"conflict", []string{"Create", "Replace", "Delete", "Enable", "Disable"},
			&awsapi.Error{Code: "ConflictingResourceUpdateException", Status: 409, Message: "busy"},
			409, func(err error) bool { var e *types.ConflictingResourceUpdateException; return errors.As(err, &e) }},
		{"unavailable", []string{"Get", "List"}, awsapi.Errorf(awsapi.ServiceUnavailable, "later"),
			503, func(err error) bool { var e *types.ServiceUnavailableException; return errors.As(err, &e) }},
		// Anything unexpected: InternalException, without its text.
		{"plain error", []string{"Create", "Get", "Replace", "Delete", "List", "Enable", "Disable"}, errors.New("disk on fire"),
			500, func(err error) bool {
				var e *types.InternalException
				return errors.As(err, &e) && !strings.Contains(aws.ToString(e.Message), "fire")
			}},
		{"internal failure", []string{"Get", "List"}, awsapi.Internal(errors.New("disk on fire")),
			500, func(err error) bool {
				var e *types.InternalException
				return errors.As(err, &e) && !strings.Contains(aws.ToString(e.Message), "fire")
			}},
	}
	for _, tt := range tests {
		for _, op := range tt.ops {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				next = tt.err
				err := ops[op]()
				if !tt.is(err) {
					t.Fatalf("%s: error %v (%T), not the typed error expected", op, err, err)
				}
				var ae interface{ ErrorCode() string }
				if errors.As(err, &ae) {
					apiErr(t, err, ae.ErrorCode(), tt.status)
				}
			})
		}
	}
}

// TestTopicRule_BadNames checks that every rule operation refuses a name
// outside ^[a-zA-Z0-9_]+$ or longer than 128 with InvalidRequestException
// before calling the service, and takes one of exactly 128.
func TestTopicRule_BadNames(t *testing.T) {
	f := &fakeRules{t: t, get: func(name string) (rules.Rule, error) { return rules.Rule{Name: name}, nil }}
	c, _ := ruleServer(t, f)
	ctx := context.Background()
	payload := &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{}}
	for _, name := range []string{"with-dash", "with space", "dot.ted", "slash/ed", "ünïcode", "colon:", strings.Repeat("a", 129)} {
		n := aws.String(name)
		for op, call := range map[string]func() error{
			"Create": func() error {
				_, err := c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: n, TopicRulePayload: payload})
				return err
			},
			"Get": func() error { _, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: n}); return err },
			"Replace": func() error {
				_, err := c.ReplaceTopicRule(ctx, &iot.ReplaceTopicRuleInput{RuleName: n, TopicRulePayload: payload})
				return err
			},
			"Delete":  func() error { _, err := c.DeleteTopicRule(ctx, &iot.DeleteTopicRuleInput{RuleName: n}); return err },
			"Enable":  func() error { _, err := c.EnableTopicRule(ctx, &iot.EnableTopicRuleInput{RuleName: n}); return err },
			"Disable": func() error { _, err := c.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: n}); return err },
		} {
			err := call()
			var e *types.InvalidRequestException
			if !errors.As(err, &e) || !strings.Contains(aws.ToString(e.Message), "ruleName") {
				t.Fatalf("%s %q: %v, want InvalidRequestException about ruleName", op, name, err)
			}
		}
	}
	long := strings.Repeat("Z9_", 42) + "ab" // 128
	out, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String(long)})
	if err != nil || aws.ToString(out.Rule.RuleName) != long {
		t.Fatalf("GetTopicRule of a 128-character name: %+v, %v", out, err)
	}
}

// TestTopicRule_BadRequests sends malformed bodies, tags and queries over
// raw HTTP (the SDK would refuse some of them itself) and checks each is
// an InvalidRequestException naming the problem, the service not called.
func TestTopicRule_BadRequests(t *testing.T) {
	_, base := ruleServer(t, &fakeRules{t: t})
	ok := `{"sql":"SELECT * FROM 'a'","actions":[]}`
	actions := func(n int) string {
		return `{"sql":"SELECT * FROM 'a'","actions":[` + strings.TrimSuffix(strings.Repeat(`{"republish":{"topic":"t"}},`, n), ",") + `]}`
	}
	var manyTags []string
	for i := range 51 {
		manyTags = append(manyTags, fmt.Sprintf("k%d=v", i))
	}
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		msg                      string // a part of the message
	}{
		{"not json", "POST", "/rules/r1", `{"sql":`, nil, 400, "JSON"},
		{"not an object", "POST", "/rules/r1", `["sql"]`, nil, 400, "object"},
		{"empty body", "POST", "/rules/r1", "", nil, 400, "sql is required"},
		{"no sql", "POST", "/rules/r1", `{"actions":[]}`, nil, 400, "sql is required"},
		{"no actions", "PATCH", "/rules/r1", `{"sql":"SELECT * FROM 'a'"}`, nil, 400, "actions is required"},
		{"null actions", "POST", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":null}`, nil, 400, "actions is required"},
		{"sql not a string", "POST", "/rules/r1", `{"sql":1,"actions":[]}`, nil, 400, "sql"},
		{"actions not a list", "POST", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":{}}`, nil, 400, "actions"},
		{"ruleDisabled not a boolean", "PATCH", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":[],"ruleDisabled":"yes"}`, nil, 400, "ruleDisabled"},
		{"11 actions", "POST", "/rules/r1", actions(11), nil, 400, "at most 10"},
		{"action not an object", "POST", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":[{},1]}`, nil, 400, "actions[1]"},
		{"null action", "PATCH", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":[null]}`, nil, 400, "actions[0]"},
		{"errorAction not an object", "POST", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":[],"errorAction":[]}`, nil, 400, "errorAction"},
		{"trailing data", "POST", "/rules/r1", ok + `{}`, nil, 400, "after"},
		{"bad percent-encoding", "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": "a=%zz"}, 400, "x-amz-tagging"},
		{"duplicate tag", "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": "a=1&a=2"}, 400, "twice"},
		{"reserved tag", "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": "aws:owner=x"}, 400, "aws:"},
		{"empty tag key", "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": "=v"}, 400, "Key"},
		{"too many tags", "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": strings.Join(manyTags, "&")}, 400, "at most 50"},
		{"maxResults 0", "GET", "/rules?maxResults=0", "", nil, 400, "maxResults"},
		{"maxResults 10001", "GET", "/rules?maxResults=10001", "", nil, 400, "maxResults"},
		{"maxResults not a number", "GET", "/rules?maxResults=ten", "", nil, 400, "maxResults"},
		{"ruleDisabled not a boolean", "GET", "/rules?ruleDisabled=yes", "", nil, 400, "ruleDisabled"},
		{"empty name", "POST", "/rules/", ok, nil, 405, "POST"},
		{"escaped slash in the name", "GET", "/rules/a%2Fb", "", nil, 400, "ruleName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, body := rawRule(t, base, tt.method, tt.path, tt.body, tt.hdr)
			var e struct{ Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			wantCode := "InvalidRequestException"
			if tt.status == 405 {
				wantCode = "MethodNotAllowedException"
			}
			if status != tt.status || code != wantCode || e.Code != wantCode || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("%s %s = %d %s %+v; want %d %s with %q", tt.method, tt.path, status, code, e, tt.status, wantCode, tt.msg)
			}
		})
	}
	// The checks see the decoded key: a percent-encoded AWS: prefix is
	// refused too.
	status, _, _ := rawRule(t, base, "POST", "/rules/r1", ok, map[string]string{"X-Amz-Tagging": url.QueryEscape("AWS:x") + "=1"})
	if status != 400 {
		t.Fatalf("an AWS: tag key = %d, want 400", status)
	}
}

// TestTopicRule_NotServed checks that a control plane without a rule
// service does not serve the rule operations: they are unknown, 404.
func TestTopicRule_NotServed(t *testing.T) {
	c, base := ruleServer(t, nil)
	_, err := c.ListTopicRules(context.Background(), &iot.ListTopicRulesInput{})
	apiErr(t, err, "UnknownOperationException", 404)
	status, code, _ := rawRule(t, base, "POST", "/rules/r1", `{"sql":"SELECT * FROM 'a'","actions":[]}`, nil)
	if status != 404 || code != "UnknownOperationException" {
		t.Fatalf("CreateTopicRule without a service = %d %s", status, code)
	}
}

// FuzzTopicRuleRequest feeds CreateTopicRule and ListTopicRules arbitrary
// bodies, x-amz-tagging headers and query strings. Whatever comes in, the
// answer is never a server error, and what reaches the service has the
// shape the handlers promise: SQL and actions present, at most 10 actions,
// each action and any errorAction a JSON object, at most 50 tags none of
// them reserved, a page size within the model's range.
func FuzzTopicRuleRequest(f *testing.F) {
	f.Add([]byte(`{"sql":"SELECT * FROM 'a/#'","actions":[{"republish":{"topic":"b"}}],"errorAction":{"republish":{"topic":"e"}}}`),
		"env=prod&team=a%20b", "topic=a%2F%23&maxResults=5&ruleDisabled=true&nextToken=x")
	f.Add([]byte(`{"sql":"x","actions":[],"errorAction":null,"ruleDisabled":true}`), "", "ruleDisabled=false")
	f.Add([]byte(`{"sql":"x","actions":[null]}`), "aws:x=1", "maxResults=0")
	f.Add([]byte(`{"sql":"x","actions":[{},{},{},{},{},{},{},{},{},{},{}]}`), "a=1&a=2", "maxResults=10001")
	f.Add([]byte(`[1]`), "%zz", "ruleDisabled=yes")
	f.Fuzz(func(t *testing.T, body []byte, tagging, query string) {
		var created, listed bool
		svc := &fakeRules{t: t,
			create: func(name string, p rules.Payload, tags map[string]string) error {
				created = true
				if name != "r1" || p.SQL == "" || p.Actions == nil || len(p.Actions) > 10 || len(tags) > 50 {
					t.Fatalf("Create(%q, %+v, %d tags)", name, p, len(tags))
				}
				for i, a := range p.Actions {
					if !isJSONObject(a) {
						t.Fatalf("actions[%d] = %q reached the service", i, a)
					}
				}
				if p.ErrorAction != nil && !isJSONObject(p.ErrorAction) {
					t.Fatalf("errorAction = %q reached the service", p.ErrorAction)
				}
				for k := range tags {
					if strings.HasPrefix(strings.ToLower(k), "aws:") || k == "" {
						t.Fatalf("tag key %q reached the service", k)
					}
				}
				return nil
			},
			list: func(_ string, _ *bool, p store.Page) ([]rules.Rule, string, error) {
				listed = true
				if p.Limit < 0 || p.Limit > 10_000 {
					t.Fatalf("List with limit %d", p.Limit)
				}
				return nil, "", nil
			},
		}
		h := ruleRouter(svc)

		req := httptest.NewRequest("POST", "/rules/r1", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Tagging", tagging)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || (rec.Code == 200) != created {
			t.Fatalf("CreateTopicRule = %d %s (service called: %v)", rec.Code, rec.Body, created)
		}

		req = httptest.NewRequest("GET", "/rules", nil)
		req.URL.RawQuery = query
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || (rec.Code == 200) != listed {
			t.Fatalf("ListTopicRules?%s = %d %s (service called: %v)", query, rec.Code, rec.Body, listed)
		}
	})
}

// isJSONObject reports whether raw is a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && m != nil
}
