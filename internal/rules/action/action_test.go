package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestNew_invalid checks that New refuses each invalid action with an
// error that says what is wrong, and starts nothing: no publish, no HTTP
// request, no Kafka producer.
func TestNew_invalid(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	kafka := `"destinationArn":"arn:aws:iot:us-east-1:000000000000:ruledestination/vpc/x","topic":"t","clientProperties":`
	cases := []struct {
		name, def, want string
	}{
		// The action object.
		{"not JSON", `{`, "must be a JSON object"},
		{"not an object", `["republish"]`, "must be a JSON object"},
		{"JSON null", `null`, "must be a JSON object"},
		{"no kind", `{}`, "must set one action kind"},
		{"only null kinds", `{"republish":null}`, "must set one action kind"},
		{"two kinds", `{"republish":{"topic":"a","roleArn":"r"},"lambda":{"functionArn":"https://example.com/"}}`,
			"exactly one action kind, not 2 (lambda, republish)"},
		{"unknown kind", `{"frobnicate":{}}`, `unknown action kind "frobnicate"`},
		{"AWS kind dynamoDB", `{"dynamoDB":{"tableName":"t"}}`, "the dynamoDB action is not supported by moat"},
		{"AWS kind s3", `{"s3":{}}`, "the s3 action is not supported by moat"},
		{"AWS kind sqs", `{"sqs":{}}`, "the sqs action is not supported by moat"},
		{"kind not an object", `{"republish":"a/b"}`, "republish: must be a JSON object"},

		// republish.
		{"republish without topic", `{"republish":{"roleArn":"r"}}`, "republish: topic is required"},
		{"republish with empty topic", `{"republish":{"topic":"","roleArn":"r"}}`, "republish: topic is required"},
		{"republish without roleArn", `{"republish":{"topic":"a"}}`, "republish: roleArn is required"},
		{"republish qos 2", `{"republish":{"topic":"a","roleArn":"r","qos":2}}`, "qos must be 0 or 1, not 2"},
		{"republish qos -1", `{"republish":{"topic":"a","roleArn":"r","qos":-1}}`, "qos must be 0 or 1, not -1"},
		{"republish qos string", `{"republish":{"topic":"a","roleArn":"r","qos":"1"}}`, "republish: qos: must be an integer, not string"},
		{"republish qos fraction", `{"republish":{"topic":"a","roleArn":"r","qos":0.5}}`, "republish: qos: must be an integer, not number 0.5"},
		{"republish topic with wildcard", `{"republish":{"topic":"a/+/b","roleArn":"r"}}`, "wildcard"},
		{"republish topic too deep", `{"republish":{"topic":"1/2/3/4/5/6/7/8/9","roleArn":"r"}}`, "too many levels"},
		{"republish to Basic Ingest", `{"republish":{"topic":"$$aws/rules/other/x","roleArn":"r"}}`, "Basic Ingest"},
		{"republish to Basic Ingest, templated", `{"republish":{"topic":"$aws/rules/other/${topic()}","roleArn":"r"}}`, "Basic Ingest"},
		{"republish to a job topic", `{"republish":{"topic":"$$aws/things/lamp/jobs/get","roleArn":"r"}}`, "job topics"},
		{"republish bad template", `{"republish":{"topic":"a/${topic(","roleArn":"r"}}`, "republish: topic: unterminated"},
		{"republish bad payloadFormatIndicator", `{"republish":{"topic":"a","roleArn":"r","headers":{"payloadFormatIndicator":"TEXT"}}}`,
			"headers.payloadFormatIndicator: must be UNSPECIFIED_BYTES or UTF8_DATA"},
		{"republish bad correlationData", `{"republish":{"topic":"a","roleArn":"r","headers":{"correlationData":"not base64!"}}}`,
			"headers.correlationData: must be base64"},
		{"republish bad messageExpiry", `{"republish":{"topic":"a","roleArn":"r","headers":{"messageExpiry":"-1"}}}`,
			"headers.messageExpiry: must be a whole number"},
		{"republish bad responseTopic", `{"republish":{"topic":"a","roleArn":"r","headers":{"responseTopic":"a/#"}}}`,
			"headers.responseTopic"},
		{"republish long contentType", `{"republish":{"topic":"a","roleArn":"r","headers":{"contentType":"` + strings.Repeat("x", 1025) + `"}}}`,
			"headers.contentType: longer than 1024 bytes"},
		{"republish user property without value", `{"republish":{"topic":"a","roleArn":"r","headers":{"userProperties":[{"key":"k"}]}}}`,
			"headers.userProperties[0]: key and value are required"},
		{"republish too many user properties", `{"republish":{"topic":"a","roleArn":"r","headers":{"userProperties":[` +
			strings.TrimSuffix(strings.Repeat(`{"key":"k","value":"v"},`, 101), ",") + `]}}}`, "more than 100"},

		// http.
		{"http without url", `{"http":{}}`, "http: url is required"},
		{"http with ftp url", `{"http":{"url":"ftp://example.com/x"}}`, "must be an https:// URL"},
		{"http with relative url", `{"http":{"url":"/hooks"}}`, "must be an https:// URL"},
		{"http url without host", `{"http":{"url":"https:///hooks"}}`, "has no host"},
		{"http url with password", `{"http":{"url":"https://u:p@example.com/"}}`, "must not contain a user name or password"},
		{"http url not allowed", `{"http":{"url":"https://evil.example/"}}`, "is not an allowed destination: evil.example is not on the allow list"},
		{"http url path not allowed", `{"http":{"url":"https://example.com/forbidden/x"}}`, "is not an allowed destination"},
		{"http url too long", `{"http":{"url":"https://example.com/` + strings.Repeat("a", 2000) + `"}}`, "longer than 2000 bytes"},
		{"http sigv4", `{"http":{"url":"https://example.com/","auth":{"sigv4":{"signingRegion":"us-east-1","serviceName":"execute-api","roleArn":"r"}}}}`,
			"auth (SigV4 signing) is not supported by moat"},
		{"http batching", `{"http":{"url":"https://example.com/","enableBatching":true,"batchConfig":{"maxBatchSize":5}}}`,
			"enableBatching is not supported by moat"},
		{"http templated url without confirmationUrl", `{"http":{"url":"https://example.com/${topic()}"}}`,
			"confirmationUrl is required when url contains substitution templates"},
		{"http url not under confirmationUrl", `{"http":{"url":"https://example.com/a","confirmationUrl":"https://example.com/b"}}`,
			"url must begin with confirmationUrl"},
		{"http templated url not under confirmationUrl", `{"http":{"url":"https://example.com/a/${topic()}","confirmationUrl":"https://example.com/b/"}}`,
			"url must begin with confirmationUrl"},
		{"http templated confirmationUrl", `{"http":{"url":"https://example.com/a","confirmationUrl":"https://${clientid()}/"}}`,
			"confirmationUrl: substitution templates are not supported by moat"},
		{"http confirmationUrl not allowed", `{"http":{"url":"https://evil.example/a/${topic()}","confirmationUrl":"https://evil.example/a/"}}`,
			`confirmationUrl "https://evil.example/a/": is not an allowed destination`},
		{"http templated url with a refused constant part", `{"http":{"url":"https://example.com/forbidden/${topic()}","confirmationUrl":"https://example.com/"}}`,
			"is not an allowed destination"},
		{"http header without key", `{"http":{"url":"https://example.com/","headers":[{"value":"v"}]}}`, "headers[0]: key and value are required"},
		{"http header with bad key", `{"http":{"url":"https://example.com/","headers":[{"key":"a b","value":"v"}]}}`, "is not a valid header name"},
		{"http header Host", `{"http":{"url":"https://example.com/","headers":[{"key":"host","value":"v"}]}}`, "is set by moat"},
		{"http header value with newline", `{"http":{"url":"https://example.com/","headers":[{"key":"x-a","value":"a\r\nb: c"}]}}`,
			"contains a control character"},
		{"http url field of the wrong type", `{"http":{"url":42}}`, "http: url: must be a string, not number"},

		// lambda.
		{"lambda without functionArn", `{"lambda":{}}`, "lambda: functionArn is required"},
		{"lambda ARN", `{"lambda":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}`, "moat has no AWS Lambda"},
		{"lambda URL not allowed", `{"lambda":{"functionArn":"https://evil.example/"}}`, "is not an allowed destination"},
		{"lambda templated host", `{"lambda":{"functionArn":"https://${clientid()}.example.com/"}}`, "scheme and host of the URL cannot contain substitution templates"},

		// kafka.
		{"kafka without destinationArn", `{"kafka":{"topic":"t","clientProperties":{"bootstrap.servers":"127.0.0.1:9092"}}}`,
			"kafka: destinationArn is required"},
		{"kafka without topic", `{"kafka":{"destinationArn":"d","clientProperties":{"bootstrap.servers":"127.0.0.1:9092"}}}`,
			"kafka: topic is required"},
		{"kafka without clientProperties", `{"kafka":{"destinationArn":"d","topic":"t"}}`, "kafka: clientProperties is required"},
		{"kafka without bootstrap.servers", `{"kafka":{` + kafka + `{"acks":"1"}}}`, `clientProperties["bootstrap.servers"]: is required`},
		{"kafka bad topic", `{"kafka":{"destinationArn":"d","topic":"a b","clientProperties":{"bootstrap.servers":"h:1"}}}`,
			"a Kafka topic name has only"},
		{"kafka bad partition", `{"kafka":{` + kafka + `{"bootstrap.servers":"h:1"},"partition":"-1"}}`, `kafka: partition: "-1" is not a partition number`},
		{"kafka header without value", `{"kafka":{` + kafka + `{"bootstrap.servers":"h:1"},"headers":[{"key":"k"}]}}`,
			"kafka: headers[0]: key and value are required"},
		{"kafka get_secret", `{"kafka":{` + kafka + `{"bootstrap.servers":"h:1","security.protocol":"SASL_SSL","sasl.mechanism":"PLAIN",` +
			`"sasl.plain.username":"u","sasl.plain.password":"${get_secret('s','SecretString','p','r')}"}}}`,
			"substitution templates (such as get_secret) are not supported by moat"},
		{"kafka clientProperties of the wrong type", `{"kafka":{` + kafka + `{"acks":1}}}`, "kafka: clientProperties: must be a string, not number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			deps := testDeps(t)
			// HTTP cases target srv, which counts requests.
			a, err := New(json.RawMessage(strings.ReplaceAll(c.def, "https://example.com/", srv.URL+"/")), deps)
			if err == nil {
				t.Fatalf("New succeeded (%T), want an error containing %q", a, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			if n := len(deps.Publisher.(*recorder).all()); n != 0 {
				t.Errorf("%d publishes", n)
			}
			if n := deps.Kafka.len(); n != 0 {
				t.Errorf("%d Kafka producers", n)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("New made %d HTTP requests", n)
	}
}

// TestNew_everyAWSOnlyKind checks that each AWS action kind that needs an
// AWS service is refused by name.
func TestNew_everyAWSOnlyKind(t *testing.T) {
	for _, kind := range awsOnly {
		_, err := New(json.RawMessage(`{"`+kind+`":{}}`), testDeps(t))
		want := "the " + kind + " action is not supported by moat"
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", kind, err, want)
		}
	}
}

// TestNew_missingDeps checks that an action whose dependency the engine
// did not give is refused rather than failing later.
func TestNew_missingDeps(t *testing.T) {
	cases := map[string]struct {
		def  string
		deps func(*Deps)
		want string
	}{
		"republish without a publisher": {`{"republish":{"topic":"a","roleArn":"r"}}`, func(d *Deps) { d.Publisher = nil }, "no broker"},
		"http without an allow list":    {`{"http":{"url":"https://example.com/"}}`, func(d *Deps) { d.AllowURL = nil }, "this server allows no HTTP destinations"},
		"template without a parser":     {`{"republish":{"topic":"a/${topic()}","roleArn":"r"}}`, func(d *Deps) { d.Template = nil }, "substitution templates are not available"},
		"kafka without producers": {`{"kafka":{"destinationArn":"d","topic":"t","clientProperties":{"bootstrap.servers":"h:1"}}}`,
			func(d *Deps) { d.Kafka = nil }, "no Kafka producers"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			deps := testDeps(t)
			c.deps(&deps)
			_, err := New(json.RawMessage(c.def), deps)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestNameResource checks the names and failedResource that the engine
// puts in error action payloads.
func TestNameResource(t *testing.T) {
	cases := []struct{ def, name, resource string }{
		{`{"republish":{"topic":"$$aws/things/${topic(2)}/shadow/update","roleArn":"r"}}`, "RepublishAction", "$$aws/things/${topic(2)}/shadow/update"},
		{`{"http":{"url":"https://example.com/in/${topic()}","confirmationUrl":"https://example.com/in/"}}`, "HttpAction", "https://example.com/in/${topic()}"},
		{`{"lambda":{"functionArn":"https://example.com/fn"}}`, "LambdaAction", "https://example.com/fn"},
		{`{"kafka":{"destinationArn":"d","topic":"${topic(1)}","clientProperties":{"bootstrap.servers":"h:1"}}}`, "KafkaAction", "${topic(1)}"},
	}
	for _, c := range cases {
		a := mustNew(t, c.def, testDeps(t))
		if got := Name(a); got != c.name {
			t.Errorf("Name = %q, want %q", got, c.name)
		}
		if got := Resource(a); got != c.resource {
			t.Errorf("Resource = %q, want %q", got, c.resource)
		}
	}
	// An Action that New did not build has neither.
	var other Action = actionFunc(func(context.Context, *Message) error { return nil })
	if Name(other) != "" || Resource(other) != "" {
		t.Errorf("Name, Resource of a foreign action = %q, %q; want empty", Name(other), Resource(other))
	}
}

type actionFunc func(context.Context, *Message) error

func (f actionFunc) Do(ctx context.Context, m *Message) error { return f(ctx, m) }

// TestPermanent checks that *Permanent keeps its cause for errors.Is and
// errors.As.
func TestPermanent(t *testing.T) {
	cause := errors.New("cause")
	err := fmt.Errorf("wrapped: %w", permanent("outer: %w", cause))
	if !isPermanent(err) {
		t.Error("errors.As(*Permanent) = false")
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is(cause) = false")
	}
	if err.Error() != "wrapped: outer: cause" {
		t.Errorf("Error() = %q", err)
	}
}
