package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/rules/iotsql"
)

// Action performs one rule action for one message. Do makes one attempt:
// the engine retries with backoff on a retryable error and then runs the
// errorAction. A *Permanent error (errors.As) is not worth retrying. Do
// respects ctx (its deadline bounds the attempt) and is safe for
// concurrent use.
type Action interface {
	Do(ctx context.Context, m *Message) error
}

// Message is what an action acts on. Actions treat it as read-only and do
// not keep it, nor its Payload, after Do returns: the engine reuses the
// payload's memory for its next message.
type Message struct {
	// Payload is the rule's SELECT result: JSON, or the raw bytes of a
	// binary payload selected with SELECT *.
	Payload []byte
	// In is the incoming message, for substitution templates (topic(),
	// clientid(), payload fields, ...). Only templated parameters read it.
	In *iotsql.Input
	// Hops is the derivation count of what this action publishes: the
	// incoming message's count plus one. Republish hands it to
	// Publisher.PublishDerived so that the engine can stop rule loops.
	Hops int
}

// Permanent marks an error that retrying cannot fix: an HTTP 400, 403 or
// 404, a template that renders an invalid topic, a refused URL. Match it
// with errors.As(err, new(*Permanent)).
type Permanent struct{ Err error }

func (e *Permanent) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Permanent) Unwrap() error { return e.Err }

// permanent returns a *Permanent error with a formatted cause (%w works).
func permanent(format string, args ...any) error {
	return &Permanent{Err: fmt.Errorf(format, args...)}
}

// Publisher is the broker, as far as republish needs it. The engine's
// publisher counts the derivation of each message it publishes.
type Publisher interface {
	// PublishDerived routes p as a message from moat itself, made from
	// another message hops-1 derivations deep, and returns the reason
	// code of the publish (a code >= 0x80 is a failure).
	PublishDerived(p *packet.Publish, hops int) packet.ReasonCode
}

// Template is a parsed substitution template.
type Template interface {
	// Render evaluates the template's ${expression} parts against the
	// incoming message.
	Render(in *iotsql.Input) (string, error)
}

// Deps are what actions need from moat; the engine fills them.
type Deps struct {
	// Publisher is the broker, for republish; nil refuses republish
	// actions.
	Publisher Publisher
	// HTTPClient is the client of http and lambda actions; nil means a
	// shared default one with connect, TLS and response timeouts (see
	// defaultHTTPClient). Redirects are never followed, whatever its
	// CheckRedirect.
	HTTPClient *http.Client
	// AllowURL decides the HTTP(S) destinations of http and lambda
	// actions: the operator's allow list. It is called with each URL
	// before use (constant URLs in New, rendered ones in each Do) and
	// returns why a URL is refused. nil refuses every URL. It decides the
	// scheme too: allow http:// only where the operator opted in.
	AllowURL func(u *url.URL) error
	// Template parses a substitution template; the engine passes
	// iotsql.ParseTemplate with the rule's SQL version. nil refuses
	// parameters that contain "${".
	Template func(s string) (Template, error)
	// Kafka holds the Kafka producers shared by the engine's rules, for
	// kafka actions; nil refuses kafka actions. The engine closes it when
	// it stops.
	Kafka *KafkaClients
	// Log receives what actions log (Kafka client errors); nil means
	// slog.Default().
	Log *slog.Logger
}

// Kinds that moat performs, as the members of the AWS Action shape.
const (
	kindRepublish = "republish"
	kindHTTP      = "http"
	kindLambda    = "lambda"
	kindKafka     = "kafka"
)

// builders build an action of each kind moat performs from the kind's
// JSON object.
var builders = map[string]func(def json.RawMessage, deps *Deps) (Action, error){
	kindRepublish: newRepublish,
	kindHTTP:      newHTTP,
	kindLambda:    newLambda,
	kindKafka:     newKafka,
}

// awsOnly are the members of the AWS Action shape that moat does not
// perform: they need an AWS service.
var awsOnly = []string{
	"cloudwatchAlarm", "cloudwatchLogs", "cloudwatchMetric", "dynamoDB", "dynamoDBv2",
	"elasticsearch", "firehose", "iotAnalytics", "iotEvents", "iotSiteWise", "kinesis",
	"location", "openSearch", "s3", "salesforce", "sns", "sqs", "stepFunctions", "timestream",
}

// New builds one action from its AWS JSON: an object with exactly one
// member set, such as {"republish":{...}}, {"http":{...}},
// {"lambda":{...}} or {"kafka":{...}}. A member whose value is null counts
// as not set. Invalid parameters are errors whose text is safe to show the
// API caller; an AWS action kind that moat does not perform is an error
// naming it ("the dynamoDB action is not supported by moat"). New starts
// nothing: a kafka action connects on its first Do.
func New(def json.RawMessage, deps Deps) (Action, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(def, &members); err != nil || members == nil {
		return nil, errors.New("an action must be a JSON object such as {\"republish\":{...}}")
	}
	var kinds []string
	for k, v := range members {
		if !isNull(v) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	switch len(kinds) {
	case 0:
		return nil, errors.New("an action must set one action kind (republish, http, lambda or kafka)")
	case 1:
	default:
		return nil, fmt.Errorf("an action must set exactly one action kind, not %d (%s)", len(kinds), strings.Join(kinds, ", "))
	}
	kind := kinds[0]
	build, ok := builders[kind]
	if !ok {
		if slices.Contains(awsOnly, kind) {
			return nil, fmt.Errorf("the %s action is not supported by moat", kind)
		}
		return nil, fmt.Errorf("unknown action kind %q", kind)
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return build(members[kind], &deps)
}

// Interface guards.
var (
	_ Action    = (*republish)(nil)
	_ Action    = (*poster)(nil)
	_ Action    = (*kafkaAction)(nil)
	_ io.Closer = (*kafkaAction)(nil)
)

// Names of the action kinds as AWS writes them in error action payloads
// (failures[].failedAction).
const (
	NameRepublish = "RepublishAction"
	NameHTTP      = "HttpAction"
	NameLambda    = "LambdaAction"
	NameKafka     = "KafkaAction"
)

// described is implemented by every action New returns.
type described interface {
	name() string
	resource() string
}

// Name returns a's kind as AWS names it in error action payloads
// ("RepublishAction", "HttpAction", "LambdaAction", "KafkaAction"), or ""
// for an Action that New did not build.
func Name(a Action) string {
	if d, ok := a.(described); ok {
		return d.name()
	}
	return ""
}

// Resource returns the failedResource AWS puts in error action payloads
// for a: the republish topic, the HTTP URL, the lambda functionArn or the
// Kafka topic, as written in the action (templates unrendered). It is ""
// for an Action that New did not build.
func Resource(a Action) string {
	if d, ok := a.(described); ok {
		return d.resource()
	}
	return ""
}

// decode unmarshals the JSON object of one action kind into v, with
// errors that name the member in the AWS shape rather than Go's types.
// Unknown members are ignored, as AWS does.
func decode(kind string, def json.RawMessage, v any) error {
	if t := bytes.TrimSpace(def); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%s: must be a JSON object", kind)
	}
	err := json.Unmarshal(def, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: %s: must be %s, not %s", kind, te.Field, jsonType(te.Type.Kind().String()), te.Value)
	}
	if errors.As(err, &te) {
		return fmt.Errorf("%s: must be a JSON object", kind)
	}
	return fmt.Errorf("%s: malformed JSON", kind)
}

// jsonType names a Go kind as the JSON type it decodes from.
func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	default:
		return "of another type"
	}
}

func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}
