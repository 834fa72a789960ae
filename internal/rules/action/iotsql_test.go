package action

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/rules/iotsql"
)

// iotsqlDeps returns test Deps with the engine's own template parser.
func iotsqlDeps(t *testing.T) Deps {
	deps := testDeps(t)
	deps.Template = func(s string) (Template, error) { return iotsql.ParseTemplate(s, iotsql.Version20160323) }
	return deps
}

// TestRepublish_iotsqlTemplates checks republish with iotsql templates:
// "$$" for a reserved topic, functions and payload fields.
func TestRepublish_iotsqlTemplates(t *testing.T) {
	deps := iotsqlDeps(t)
	a := mustNew(t, `{"republish":{"topic":"$$aws/things/${topic(2)}/shadow/update","roleArn":"r",`+
		`"headers":{"userProperties":[{"key":"temperature","value":"${temperature}"},{"key":"from","value":"${clientid()}"}]}}}`, deps)
	in := &iotsql.Input{Topic: "lamps/lamp-1", ClientID: "c-1", Payload: []byte(`{"temperature":21.5}`)}
	if err := a.Do(testCtx(t, time.Second), &Message{Payload: []byte(`{}`), In: in}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	p := deps.Publisher.(*recorder).all()[0].p
	if p.Topic != "$aws/things/lamp-1/shadow/update" {
		t.Errorf("topic %q", p.Topic)
	}
	got, _ := json.Marshal(p.Properties.UserProperties)
	if want := `[{"Key":"temperature","Value":"21.5"},{"Key":"from","Value":"c-1"}]`; string(got) != want {
		t.Errorf("user properties %s, want %s", got, want)
	}
}

// TestNew_iotsqlSyntaxError checks that a template the SQL parser refuses
// is an error of New that names the parameter.
func TestNew_iotsqlSyntaxError(t *testing.T) {
	_, err := New(json.RawMessage(`{"kafka":{"destinationArn":"d","topic":"t","key":"${topic(}",`+
		`"clientProperties":{"bootstrap.servers":"h:1"}}}`), iotsqlDeps(t))
	if err == nil || !strings.HasPrefix(err.Error(), "kafka: key: ") {
		t.Errorf("error %v, want one about kafka: key", err)
	}
}
