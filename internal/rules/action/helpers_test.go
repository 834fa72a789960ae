package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/rules/iotsql"
)

// fakeTemplate is a stand-in for iotsql templates, so that these tests
// check the actions and not the SQL: ${topic()}, ${topic(n)},
// ${clientid()}, ${fail()} (a render error) and ${a.b} (a field of the
// incoming JSON payload; a missing field renders as "").
type fakeTemplate struct {
	lits  []string // len(exprs)+1 literal parts around the expressions
	exprs []string
}

func parseFakeTemplate(s string) (Template, error) {
	t := &fakeTemplate{}
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			t.lits = append(t.lits, s)
			return t, nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, errors.New("unterminated substitution template")
		}
		expr := s[i+2 : i+j]
		if !validFakeExpr(expr) {
			return nil, fmt.Errorf("invalid expression %q", expr)
		}
		t.lits = append(t.lits, s[:i])
		t.exprs = append(t.exprs, expr)
		s = s[i+j+1:]
	}
}

func validFakeExpr(e string) bool {
	switch {
	case e == "topic()", e == "clientid()", e == "fail()":
		return true
	case strings.HasPrefix(e, "topic(") && strings.HasSuffix(e, ")"):
		_, err := strconv.Atoi(e[6 : len(e)-1])
		return err == nil
	}
	if e == "" {
		return false
	}
	for _, c := range e {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func (t *fakeTemplate) Render(in *iotsql.Input) (string, error) {
	var b strings.Builder
	for i, e := range t.exprs {
		b.WriteString(t.lits[i])
		v, err := evalFake(e, in)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String(), nil
}

func evalFake(e string, in *iotsql.Input) (string, error) {
	switch {
	case e == "topic()":
		return in.Topic, nil
	case e == "clientid()":
		return in.ClientID, nil
	case e == "fail()":
		return "", errors.New("fail() always fails")
	case strings.HasPrefix(e, "topic("):
		n, _ := strconv.Atoi(e[6 : len(e)-1])
		levels := strings.Split(in.Topic, "/")
		if n < 1 || n > len(levels) {
			return "", nil
		}
		return levels[n-1], nil
	}
	var v any
	if err := json.Unmarshal(in.Payload, &v); err != nil {
		return "", nil
	}
	for _, f := range strings.Split(e, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", nil
		}
		v = obj[f]
	}
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		b, _ := json.Marshal(v)
		return string(b), nil
	}
}

// recorder is a Publisher that records what it is given and answers rc.
type recorder struct {
	mu   sync.Mutex
	rc   packet.ReasonCode
	pubs []published
}

type published struct {
	p    *packet.Publish
	hops int
}

func (r *recorder) PublishDerived(p *packet.Publish, hops int) packet.ReasonCode {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := *p
	r.pubs = append(r.pubs, published{&q, hops})
	return r.rc
}

func (r *recorder) all() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]published(nil), r.pubs...)
}

// allowTestHosts is the allow list of the tests: 127.0.0.1 (httptest
// servers) and example.com, but no path under /forbidden.
func allowTestHosts(u *url.URL) error {
	if h := u.Hostname(); h != "127.0.0.1" && h != "example.com" {
		return fmt.Errorf("%s is not on the allow list", h)
	}
	if strings.HasPrefix(u.Path, "/forbidden") {
		return errors.New("/forbidden is not on the allow list")
	}
	return nil
}

// testDeps returns Deps with a recorder, the fake templates, the test
// allow list and fresh Kafka producers (closed with the test).
func testDeps(t *testing.T) Deps {
	t.Helper()
	k := NewKafkaClients()
	t.Cleanup(k.Close)
	return Deps{
		Publisher: &recorder{},
		AllowURL:  allowTestHosts,
		Template:  parseFakeTemplate,
		Kafka:     k,
	}
}

// mustNew builds an action from def or fails the test.
func mustNew(t *testing.T, def string, deps Deps) Action {
	t.Helper()
	a, err := New(json.RawMessage(def), deps)
	if err != nil {
		t.Fatalf("New(%s): %v", def, err)
	}
	return a
}

// input returns an incoming message on topic from client with payload.
func input(topic, client, payload string) *iotsql.Input {
	return &iotsql.Input{Topic: topic, ClientID: client, Payload: []byte(payload)}
}

// testCtx returns a context that ends after d or with the test.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// isPermanent reports whether err is marked *Permanent.
func isPermanent(err error) bool {
	var p *Permanent
	return errors.As(err, &p)
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
