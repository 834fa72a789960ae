package rules_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

const waitFor = 10 * time.Second

// openPolicy lets a test client connect as anything and use every topic
// (the rules are what is tested here, not policies).
func openPolicy(srv *moattest.Server) string {
	return strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:REGION:ACCOUNT:client/*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/*"}
  ]
}`)
}

type received struct {
	topic   string
	payload []byte
}

// client connects a paho.mqtt.golang 3.1.1 client; with filters it
// subscribes and returns what arrives.
func client(t *testing.T, srv *moattest.Server, d *moattest.Device, id string, filters ...string) (mqtt.Client, <-chan received) {
	t.Helper()
	msgs := make(chan received, 256)
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(id).
		SetTLSConfig(srv.MQTTTLS(d)).SetAutoReconnect(false).SetProtocolVersion(4).SetConnectTimeout(waitFor))
	if tok := c.Connect(); !tok.WaitTimeout(waitFor) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	for _, f := range filters {
		tok := c.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) {
			msgs <- received{m.Topic(), append([]byte(nil), m.Payload()...)}
		})
		if !tok.WaitTimeout(waitFor) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	return c, msgs
}

func publish(t *testing.T, c mqtt.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(waitFor) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func next(t *testing.T, msgs <-chan received) received {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("nothing received")
		return received{}
	}
}

func quiet(t *testing.T, msgs <-chan received, d time.Duration) {
	t.Helper()
	select {
	case m := <-msgs:
		t.Fatalf("unexpected %s %s", m.topic, m.payload)
	case <-time.After(d):
	}
}

func createRule(t *testing.T, srv *moattest.Server, name string, p *types.TopicRulePayload) {
	t.Helper()
	if _, err := srv.IoT().CreateTopicRule(context.Background(), &iot.CreateTopicRuleInput{RuleName: aws.String(name), TopicRulePayload: p}); err != nil {
		t.Fatalf("CreateTopicRule %s: %v", name, err)
	}
}

func republish(topic string) types.Action {
	return types.Action{Republish: &types.RepublishAction{Topic: aws.String(topic), RoleArn: aws.String("arn:aws:iam::000000000000:role/moat"), Qos: aws.Int32(1)}}
}

// TestRepublish: a real publisher's message that passes the WHERE clause
// is transformed by the SELECT and republished to a templated topic; one
// that does not is not; Basic Ingest runs the rule without fan-out.
func TestRepublish(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "", openPolicy(srv))
	createRule(t, srv, "hot", &types.TopicRulePayload{
		Sql:              aws.String("SELECT temperature AS t, topic(2) AS device, clientid() AS client FROM 'sensors/+/data' WHERE temperature > 30"),
		AwsIotSqlVersion: aws.String("2016-03-23"),
		Actions:          []types.Action{republish("alerts/${topic(2)}")},
	})
	_, alerts := client(t, srv, &d, "watcher", "alerts/#")
	pub, _ := client(t, srv, &d, "sensor-7")

	publish(t, pub, "sensors/dev1/data", `{"temperature":35,"humidity":50}`)
	m := next(t, alerts)
	if m.topic != "alerts/dev1" {
		t.Fatalf("republished on %s, want alerts/dev1", m.topic)
	}
	var got map[string]any
	if err := json.Unmarshal(m.payload, &got); err != nil || got["t"] != 35.0 || got["device"] != "dev1" || got["client"] != "sensor-7" || got["humidity"] != nil {
		t.Fatalf("republished %s", m.payload)
	}
	publish(t, pub, "sensors/dev1/data", `{"temperature":20}`)
	publish(t, pub, "sensors/dev1/data", `not json`)
	quiet(t, alerts, 300*time.Millisecond)

	// Basic Ingest: topic() sees the topic without $aws/rules/hot/.
	publish(t, pub, "$aws/rules/hot/sensors/dev2/data", `{"temperature":40}`)
	m = next(t, alerts)
	if m.topic != "alerts/dev2" {
		t.Fatalf("basic ingest republished on %s, want alerts/dev2", m.topic)
	}
	// A rule that does not exist: nothing happens, the publisher stays.
	publish(t, pub, "$aws/rules/nope/x", `{"temperature":40}`)
	quiet(t, alerts, 300*time.Millisecond)
}

// TestRuleLoop: a rule that republishes onto its own FROM filter runs
// MaxHops times and stops.
func TestRuleLoop(t *testing.T) {
	srv := moattest.Start(t, func(c *config.Config) { c.Rules.MaxHops = 3 })
	d := srv.NewDevice(t, "", openPolicy(srv))
	createRule(t, srv, "loop", &types.TopicRulePayload{
		Sql:     aws.String("SELECT * FROM 'loop/#'"),
		Actions: []types.Action{republish("loop/again")},
	})
	c, msgs := client(t, srv, &d, "looper", "loop/#")
	publish(t, c, "loop/start", `{"n":1}`)
	var topics []string
	for {
		select {
		case m := <-msgs:
			topics = append(topics, m.topic)
			continue
		case <-time.After(500 * time.Millisecond):
		}
		break
	}
	// The original, then one republish per hop: 3.
	if len(topics) != 4 || topics[0] != "loop/start" || topics[3] != "loop/again" {
		t.Fatalf("received %v, want loop/start and 3 republishes", topics)
	}
}

// TestHTTPActionAndErrorAction: an http action posts the SELECT result to
// an allowed destination with templated headers; a destination that keeps
// failing is retried, then the errorAction gets AWS's error payload.
func TestHTTPActionAndErrorAction(t *testing.T) {
	type hit struct {
		path, device string
		body         []byte
	}
	hits := make(chan hit, 16)
	var failures atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.URL.Path, "/broken") {
			failures.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		hits <- hit{r.URL.Path, r.Header.Get("x-device"), b}
	}))
	defer target.Close()
	srv := moattest.Start(t, func(c *config.Config) {
		c.Rules.HTTPDestinations = []string{target.URL + "/hooks/", target.URL + "/broken/"}
		c.Rules.MaxAttempts = 2
	})
	d := srv.NewDevice(t, "", openPolicy(srv))
	createRule(t, srv, "tohttp", &types.TopicRulePayload{
		Sql: aws.String("SELECT temperature FROM 'sensors/+/data'"),
		Actions: []types.Action{{Http: &types.HttpAction{Url: aws.String(target.URL + "/hooks/${topic(2)}"), ConfirmationUrl: aws.String(target.URL + "/hooks/"),
			Headers: []types.HttpActionHeader{{Key: aws.String("x-device"), Value: aws.String("${topic(2)}")}}}}},
	})
	createRule(t, srv, "broken", &types.TopicRulePayload{
		Sql:         aws.String("SELECT * FROM 'sensors/+/data'"),
		Actions:     []types.Action{{Http: &types.HttpAction{Url: aws.String(target.URL + "/broken/x")}}},
		ErrorAction: &types.Action{Republish: &types.RepublishAction{Topic: aws.String("errors/broken"), RoleArn: aws.String("arn:aws:iam::000000000000:role/moat")}},
	})
	pub, errs := client(t, srv, &d, "sensor-1", "errors/#")
	publish(t, pub, "sensors/dev9/data", `{"temperature":21,"x":1}`)

	select {
	case h := <-hits:
		if h.path != "/hooks/dev9" || h.device != "dev9" || string(h.body) != `{"temperature":21}` {
			t.Errorf("http action: %+v %s", h, h.body)
		}
	case <-time.After(waitFor):
		t.Fatal("the http action never arrived")
	}
	m := next(t, errs)
	var ep struct {
		RuleName, Topic, ClientID, Base64OriginalPayload string
		Failures                                         []struct{ FailedAction, FailedResource, ErrorMessage string }
	}
	if err := json.Unmarshal(m.payload, &ep); err != nil {
		t.Fatalf("error payload %s: %v", m.payload, err)
	}
	orig, _ := base64.StdEncoding.DecodeString(ep.Base64OriginalPayload)
	if ep.RuleName != "broken" || ep.Topic != "sensors/dev9/data" || ep.ClientID != "sensor-1" || string(orig) != `{"temperature":21,"x":1}` ||
		len(ep.Failures) != 1 || ep.Failures[0].FailedAction != "HttpAction" || ep.Failures[0].ErrorMessage == "" {
		t.Errorf("error payload %s", m.payload)
	}
	if n := failures.Load(); n != 2 {
		t.Errorf("the broken destination was tried %d times, want 2 (--rules-max-attempts)", n)
	}

	// A destination that is not allowed is refused when the rule is made.
	_, err := srv.IoT().CreateTopicRule(context.Background(), &iot.CreateTopicRuleInput{RuleName: aws.String("elsewhere"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'a'"),
			Actions: []types.Action{{Http: &types.HttpAction{Url: aws.String("https://example.com/x")}}}}})
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Errorf("http action to an unlisted destination: %v, want InvalidRequestException", err)
	}
}

// TestRuleAPI runs the rule resource through the SDK: create, get, list
// with filters, replace, disable (the rule stops), enable, delete, and
// the refusals: bad SQL, unsupported actions, bad names, duplicates,
// missing rules.
func TestRuleAPI(t *testing.T) {
	srv := moattest.Start(t)
	ctx := context.Background()
	c := srv.IoT()
	d := srv.NewDevice(t, "", openPolicy(srv))
	createRule(t, srv, "r1", &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'in/#'"), Description: aws.String("first"),
		Actions: []types.Action{republish("out/r1")}})
	createRule(t, srv, "r2", &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'other'"), RuleDisabled: aws.Bool(true),
		Actions: []types.Action{republish("out/r2")}})

	got, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String("r1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.RuleArn) != "arn:aws:iot:us-east-1:000000000000:rule/r1" || aws.ToString(got.Rule.Sql) != "SELECT * FROM 'in/#'" ||
		aws.ToString(got.Rule.Description) != "first" || aws.ToBool(got.Rule.RuleDisabled) || len(got.Rule.Actions) != 1 ||
		aws.ToString(got.Rule.Actions[0].Republish.Topic) != "out/r1" || got.Rule.CreatedAt == nil {
		t.Errorf("GetTopicRule: %+v", got.Rule)
	}
	list, err := c.ListTopicRules(ctx, &iot.ListTopicRulesInput{})
	if err != nil || len(list.Rules) != 2 || aws.ToString(list.Rules[1].TopicPattern) != "other" || !aws.ToBool(list.Rules[1].RuleDisabled) {
		t.Fatalf("ListTopicRules: %+v %v", list, err)
	}
	list, err = c.ListTopicRules(ctx, &iot.ListTopicRulesInput{RuleDisabled: aws.Bool(false)})
	if err != nil || len(list.Rules) != 1 || aws.ToString(list.Rules[0].RuleName) != "r1" {
		t.Fatalf("ListTopicRules(enabled): %+v %v", list, err)
	}
	list, err = c.ListTopicRules(ctx, &iot.ListTopicRulesInput{Topic: aws.String("other")})
	if err != nil || len(list.Rules) != 1 || aws.ToString(list.Rules[0].RuleName) != "r2" {
		t.Fatalf("ListTopicRules(topic): %+v %v", list, err)
	}

	pub, out := client(t, srv, &d, "p", "out/#")
	publish(t, pub, "in/x", "1")
	if m := next(t, out); m.topic != "out/r1" {
		t.Fatalf("got %s", m.topic)
	}
	// Replace: a new SQL and action take effect; the creation time stays.
	if _, err := c.ReplaceTopicRule(ctx, &iot.ReplaceTopicRuleInput{RuleName: aws.String("r1"), TopicRulePayload: &types.TopicRulePayload{
		Sql: aws.String("SELECT * FROM 'in/#' WHERE n > 1"), Actions: []types.Action{republish("out/replaced")}}}); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "in/x", `{"n":1}`)
	publish(t, pub, "in/x", `{"n":2}`)
	if m := next(t, out); m.topic != "out/replaced" || string(m.payload) != `{"n":2}` {
		t.Fatalf("after replace: %s %s", m.topic, m.payload)
	}
	got2, _ := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String("r1")})
	if !got2.Rule.CreatedAt.Equal(*got.Rule.CreatedAt) {
		t.Errorf("createdAt changed on replace: %v → %v", got.Rule.CreatedAt, got2.Rule.CreatedAt)
	}
	// Disable stops it, enable starts it again.
	if _, err := c.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "in/x", `{"n":5}`)
	quiet(t, out, 300*time.Millisecond)
	if _, err := c.EnableTopicRule(ctx, &iot.EnableTopicRuleInput{RuleName: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "in/x", `{"n":6}`)
	if m := next(t, out); string(m.payload) != `{"n":6}` {
		t.Fatalf("after enable: %s", m.payload)
	}
	// Delete stops it.
	if _, err := c.DeleteTopicRule(ctx, &iot.DeleteTopicRuleInput{RuleName: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "in/x", `{"n":7}`)
	quiet(t, out, 300*time.Millisecond)

	// Refusals, each with the SDK's typed error; nothing is created.
	var spe *types.SqlParseException
	_, err = c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("bad"), TopicRulePayload: &types.TopicRulePayload{
		Sql: aws.String("SELECT * FROM WHERE"), Actions: []types.Action{}}})
	if !errors.As(err, &spe) || !strings.Contains(err.Error(), "1:") {
		t.Errorf("bad SQL: %v, want SqlParseException with the position", err)
	}
	var ire *types.InvalidRequestException
	_, err = c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("bad"), TopicRulePayload: &types.TopicRulePayload{
		Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{{S3: &types.S3Action{BucketName: aws.String("b"), Key: aws.String("k"), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")}}}}})
	if !errors.As(err, &ire) || !strings.Contains(err.Error(), "s3") {
		t.Errorf("s3 action: %v, want InvalidRequestException naming s3", err)
	}
	_, err = c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("bad-name"), TopicRulePayload: &types.TopicRulePayload{
		Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{}}})
	if !errors.As(err, &ire) {
		t.Errorf("bad name: %v, want InvalidRequestException", err)
	}
	var rae *types.ResourceAlreadyExistsException
	_, err = c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("r2"), TopicRulePayload: &types.TopicRulePayload{
		Sql: aws.String("SELECT * FROM 'a'"), Actions: []types.Action{}}})
	if !errors.As(err, &rae) {
		t.Errorf("duplicate: %v, want ResourceAlreadyExistsException", err)
	}
	var ue *types.UnauthorizedException
	if _, err = c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String("r1")}); !errors.As(err, &ue) {
		t.Errorf("deleted rule: %v, want UnauthorizedException (AWS's answer)", err)
	}
	list, _ = c.ListTopicRules(ctx, &iot.ListTopicRulesInput{})
	if len(list.Rules) != 1 || aws.ToString(list.Rules[0].RuleName) != "r2" {
		t.Errorf("rules after the refusals: %+v", list.Rules)
	}
}

// TestGetThingShadow: get_thing_shadow reads moat's own shadow service.
func TestGetThingShadow(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "", openPolicy(srv))
	if resp, body := srv.Do(t, "POST", "/things/lamp-1/shadow", []byte(`{"state":{"reported":{"temp":21}}}`), "iotdata", nil); resp.StatusCode != 200 {
		t.Fatalf("UpdateThingShadow: %d %s", resp.StatusCode, body)
	}
	createRule(t, srv, "withshadow", &types.TopicRulePayload{
		Sql: aws.String("SELECT get_thing_shadow(topic(2), 'arn:aws:iam::000000000000:role/x').state.reported.temp AS shadow_temp, " +
			"get_thing_shadow('no-such-thing', 'arn:aws:iam::000000000000:role/x') AS missing, asked FROM 'ask/+'"),
		AwsIotSqlVersion: aws.String("2016-03-23"),
		Actions:          []types.Action{republish("answer/${topic(2)}")},
	})
	c, msgs := client(t, srv, &d, "asker", "answer/#")
	publish(t, c, "ask/lamp-1", `{"asked":true}`)
	m := next(t, msgs)
	if m.topic != "answer/lamp-1" || string(m.payload) != `{"shadow_temp":21,"asked":true}` {
		t.Fatalf("got %s %s, want the shadow's reported temp (and nothing for a missing shadow)", m.topic, m.payload)
	}
}
