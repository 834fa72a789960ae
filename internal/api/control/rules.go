package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/rules"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// RuleService is what the topic rule operations need of the rules engine
// (*rules.Service). Its errors are *awsapi.Error values for what the
// caller must see: ResourceAlreadyExistsException (Create of a name in
// use), UnauthorizedException (a rule that does not exist, as AWS answers
// for rules), SqlParseException (SQL that does not parse),
// InvalidRequestException (actions, tags or a SQL version it refuses),
// ConflictingResourceUpdateException; any other error is answered as
// InternalException. The handlers have checked the rule name, the
// payload's shape and the tags' syntax before calling.
type RuleService interface {
	// Create stores and starts a rule (stopped when p.RuleDisabled).
	Create(ctx context.Context, name string, p rules.Payload, tags map[string]string) error
	// Get returns a rule with its ARN.
	Get(ctx context.Context, name string) (rules.Rule, error)
	// Replace replaces a rule's payload, its enabled state included.
	Replace(ctx context.Context, name string, p rules.Payload) error
	// Delete stops and removes a rule and its tags.
	Delete(ctx context.Context, name string) error
	// List returns rules ordered by name: with a non-empty topic only
	// those whose FROM filter is topic, with a non-nil disabled only those
	// in that state. The cursor is store.Page's.
	List(ctx context.Context, topic string, disabled *bool, p store.Page) ([]rules.Rule, string, error)
	// SetEnabled starts or stops a rule.
	SetEnabled(ctx context.Context, name string, enabled bool) error
}

// Shapes of the botocore model that the handlers check.
const (
	// maxRuleActions is ActionList's longest length.
	maxRuleActions = 10
	// maxTopicRuleResults is TopicRuleMaxResults' largest value.
	maxTopicRuleResults = 10_000
)

// internalException is the 500 error of the rule operations: their model
// lists InternalException, not the InternalFailureException of most iot
// operations, so that is what the SDKs parse into a typed error.
const internalException awsapi.Code = "InternalException"

// ruleOperations are the topic rule operations; none when a.Rules is nil
// (a server without a rules engine: requests for them are
// UnknownOperationException, as for any operation moat does not serve).
func (a *API) ruleOperations() []api.Operation {
	if a.Rules == nil {
		return nil
	}
	return []api.Operation{
		{Name: "CreateTopicRule", Method: http.MethodPost, Path: "/rules/{ruleName}", Handle: a.createTopicRule, Resource: a.ruleARN()},
		{Name: "GetTopicRule", Method: http.MethodGet, Path: "/rules/{ruleName}", Handle: a.getTopicRule, Resource: a.ruleARN()},
		{Name: "ReplaceTopicRule", Method: http.MethodPatch, Path: "/rules/{ruleName}", Handle: a.replaceTopicRule, Resource: a.ruleARN()},
		{Name: "DeleteTopicRule", Method: http.MethodDelete, Path: "/rules/{ruleName}", Handle: a.deleteTopicRule, Resource: a.ruleARN()},
		{Name: "ListTopicRules", Method: http.MethodGet, Path: "/rules", Handle: a.listTopicRules, Resource: api.NoResource},
		{Name: "EnableTopicRule", Method: http.MethodPost, Path: "/rules/{ruleName}/enable", Handle: a.enableTopicRule, Resource: a.ruleARN()},
		{Name: "DisableTopicRule", Method: http.MethodPost, Path: "/rules/{ruleName}/disable", Handle: a.disableTopicRule, Resource: a.ruleARN()},
	}
}

// ruleName returns the request's ruleName, checked against the model.
func ruleName(r *api.Request) (string, error) {
	name := r.PathValue("ruleName")
	return name, names.Rule("ruleName", name)
}

// rulePayload decodes the request body, a TopicRulePayload, and checks its
// shape: sql and actions present, at most maxRuleActions actions, each
// action and the errorAction a JSON object. What an action says is the
// rule service's to check. An errorAction of null is none.
func rulePayload(r *api.Request) (rules.Payload, error) {
	var p rules.Payload
	if err := awsapi.DecodeJSON(r.Request, r.Body, &p); err != nil {
		return p, err
	}
	if p.SQL == "" {
		return p, awsapi.Errorf(awsapi.InvalidRequest, "topicRulePayload.sql is required.")
	}
	if p.Actions == nil {
		return p, awsapi.Errorf(awsapi.InvalidRequest, "topicRulePayload.actions is required.")
	}
	if len(p.Actions) > maxRuleActions {
		return p, awsapi.Errorf(awsapi.InvalidRequest, "topicRulePayload.actions has %d actions; a rule may have at most %d.", len(p.Actions), maxRuleActions)
	}
	for i, a := range p.Actions {
		if !isObject(a) {
			return p, awsapi.Errorf(awsapi.InvalidRequest, "topicRulePayload.actions[%d] must be an object.", i)
		}
	}
	if bytes.Equal(bytes.TrimSpace(p.ErrorAction), []byte("null")) {
		p.ErrorAction = nil
	}
	if p.ErrorAction != nil && !isObject(p.ErrorAction) {
		return p, awsapi.Errorf(awsapi.InvalidRequest, "topicRulePayload.errorAction must be an object.")
	}
	return p, nil
}

// isObject reports whether raw (valid JSON, from the decoder) is an object.
func isObject(raw json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
}

// ruleTags parses the x-amz-tagging header of CreateTopicRule: tags in URL
// query-string form ("k1=v1&k2=v2", each part percent-encoded) and checks
// them as every Create call's tags are checked. No header is no tags.
func ruleTags(r *api.Request) (map[string]string, error) {
	h := r.Header.Get("X-Amz-Tagging")
	if h == "" {
		return nil, nil
	}
	var ts []tags.Tag
	for _, part := range strings.Split(h, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, &awsapi.Error{Code: awsapi.InvalidRequest, Cause: err,
				Message: "The x-amz-tagging header must be tags in URL query form (key1=value1&key2=value2), percent-encoded."}
		}
		ts = append(ts, tags.Tag{Key: key, Value: value})
	}
	return tags.Check("tags", ts)
}

// ruleErr gives an error of the rule service to the router: *awsapi.Error
// values and bad cursors (which the router maps) pass through; anything
// else, an InternalFailureException included, becomes InternalException.
func ruleErr(err error) error {
	if err == nil || errors.Is(err, store.ErrInvalidCursor) {
		return err
	}
	e := awsapi.From(err)
	if e.Code != awsapi.InternalFailure {
		return err
	}
	return &awsapi.Error{Code: internalException, Status: http.StatusInternalServerError, Message: e.Message, Cause: e.Cause}
}

func (a *API) createTopicRule(ctx context.Context, r *api.Request) (any, error) {
	name, err := ruleName(r)
	if err != nil {
		return nil, err
	}
	p, err := rulePayload(r)
	if err != nil {
		return nil, err
	}
	ts, err := ruleTags(r)
	if err != nil {
		return nil, err
	}
	return nil, ruleErr(a.Rules.Create(ctx, name, p, ts))
}

// topicRuleJSON is the TopicRule shape.
type topicRuleJSON struct {
	RuleName         string            `json:"ruleName"`
	SQL              string            `json:"sql"`
	Description      string            `json:"description,omitempty"`
	CreatedAt        epoch             `json:"createdAt"`
	Actions          []json.RawMessage `json:"actions"`
	RuleDisabled     bool              `json:"ruleDisabled"`
	AWSIoTSQLVersion string            `json:"awsIotSqlVersion,omitempty"`
	ErrorAction      json.RawMessage   `json:"errorAction,omitempty"`
}

type getTopicRuleOutput struct {
	RuleArn string        `json:"ruleArn"`
	Rule    topicRuleJSON `json:"rule"`
}

func (a *API) getTopicRule(ctx context.Context, r *api.Request) (any, error) {
	name, err := ruleName(r)
	if err != nil {
		return nil, err
	}
	rule, err := a.Rules.Get(ctx, name)
	if err != nil {
		return nil, ruleErr(err)
	}
	p := rule.Payload
	out := getTopicRuleOutput{RuleArn: rule.ARN, Rule: topicRuleJSON{
		RuleName: rule.Name, SQL: p.SQL, Description: p.Description, CreatedAt: toEpoch(rule.CreatedAt),
		Actions: p.Actions, RuleDisabled: p.RuleDisabled, AWSIoTSQLVersion: p.AWSIoTSQLVersion,
	}}
	if out.Rule.Actions == nil {
		out.Rule.Actions = []json.RawMessage{}
	}
	if len(p.ErrorAction) > 0 && !bytes.Equal(bytes.TrimSpace(p.ErrorAction), []byte("null")) {
		out.Rule.ErrorAction = p.ErrorAction
	}
	return out, nil
}

func (a *API) replaceTopicRule(ctx context.Context, r *api.Request) (any, error) {
	name, err := ruleName(r)
	if err != nil {
		return nil, err
	}
	p, err := rulePayload(r)
	if err != nil {
		return nil, err
	}
	return nil, ruleErr(a.Rules.Replace(ctx, name, p))
}

func (a *API) deleteTopicRule(ctx context.Context, r *api.Request) (any, error) {
	name, err := ruleName(r)
	if err != nil {
		return nil, err
	}
	return nil, ruleErr(a.Rules.Delete(ctx, name))
}

func (a *API) enableTopicRule(ctx context.Context, r *api.Request) (any, error) {
	return a.setTopicRuleEnabled(ctx, r, true)
}

func (a *API) disableTopicRule(ctx context.Context, r *api.Request) (any, error) {
	return a.setTopicRuleEnabled(ctx, r, false)
}

func (a *API) setTopicRuleEnabled(ctx context.Context, r *api.Request, enabled bool) (any, error) {
	name, err := ruleName(r)
	if err != nil {
		return nil, err
	}
	return nil, ruleErr(a.Rules.SetEnabled(ctx, name, enabled))
}

// topicRuleListItem is the TopicRuleListItem shape.
type topicRuleListItem struct {
	RuleArn      string `json:"ruleArn"`
	RuleName     string `json:"ruleName"`
	TopicPattern string `json:"topicPattern"`
	CreatedAt    epoch  `json:"createdAt"`
	RuleDisabled bool   `json:"ruleDisabled"`
}

type listTopicRulesOutput struct {
	Rules     []topicRuleListItem `json:"rules"`
	NextToken string              `json:"nextToken,omitempty"`
}

func (a *API) listTopicRules(ctx context.Context, r *api.Request) (any, error) {
	n, _, err := queryInt(r, "maxResults", 1, maxTopicRuleResults)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var disabled *bool
	if q.Get("ruleDisabled") != "" {
		d, err := queryBool(r, "ruleDisabled")
		if err != nil {
			return nil, err
		}
		disabled = &d
	}
	rs, next, err := a.Rules.List(ctx, q.Get("topic"), disabled, store.Page{After: q.Get("nextToken"), Limit: n})
	if err != nil {
		return nil, ruleErr(err)
	}
	out := listTopicRulesOutput{Rules: make([]topicRuleListItem, 0, len(rs)), NextToken: next}
	for _, rule := range rs {
		out.Rules = append(out.Rules, topicRuleListItem{
			RuleArn: rule.ARN, RuleName: rule.Name, TopicPattern: rule.Topic,
			CreatedAt: toEpoch(rule.CreatedAt), RuleDisabled: rule.Payload.RuleDisabled,
		})
	}
	return out, nil
}
