package iotsql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestEval_Allocs checks the target: no allocation when the WHERE
// clause is false, and none for the typical rule's SELECT with a buffer of
// sufficient capacity.
func TestEval_Allocs(t *testing.T) {
	q, err := Parse(benchSQL, "")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	for name, temp := range map[string]string{"where false": "21.5", "match": "31.5"} {
		in := &Input{Topic: "sensors/x/data", Payload: benchPayload(temp)}
		q.Eval(in, buf) // warm the pool
		allocs := testing.AllocsPerRun(200, func() {
			if _, _, err := q.Eval(in, buf); err != nil {
				t.Fatal(err)
			}
		})
		limit := 0.0
		if raceEnabled {
			limit = 1 // a pooled context dropped by the race detector's sync.Pool
		}
		if allocs > limit {
			t.Errorf("%s: %v allocations per Eval, want %v", name, allocs, limit)
		}
	}
}

// TestEval_Buffer checks that the result is appended to buf[:0], reusing
// its memory, and that an unmatched message gives nil.
func TestEval_Buffer(t *testing.T) {
	q, err := Parse("SELECT a FROM 't' WHERE a > 0", "")
	if err != nil {
		t.Fatal(err)
	}
	buf := append(make([]byte, 0, 64), "junk"...)
	out, matched, err := q.Eval(&Input{Payload: []byte(`{"a":1}`)}, buf)
	if err != nil || !matched || string(out) != `{"a":1}` || &out[0] != &buf[:1][0] {
		t.Fatalf("Eval = %q, %v, %v (same memory %v)", out, matched, err, len(out) > 0 && &out[0] == &buf[:1][0])
	}
	out, matched, err = q.Eval(&Input{Payload: []byte(`{"a":0}`)}, buf)
	if err != nil || matched || out != nil {
		t.Fatalf("unmatched Eval = %q, %v, %v", out, matched, err)
	}
}

// TestQuery_Concurrent evaluates one query from many goroutines (run with
// -race): each result must belong to its own input.
func TestQuery_Concurrent(t *testing.T) {
	q, err := Parse("SELECT id, upper(name) AS n, concat(name, '-', id) AS c, topic(2) AS t FROM 'a/+' WHERE id >= 0", "2016-03-23")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := 0; i < 300; i++ {
				id := g*1000 + i
				in := &Input{Topic: fmt.Sprintf("a/d%d", g), Payload: fmt.Appendf(nil, `{"id":%d,"name":"n\u00e9%d"}`, id, g)}
				out, matched, err := q.Eval(in, buf)
				want := fmt.Sprintf(`{"id":%d,"n":"NÉ%d","c":"né%d-%d","t":"d%d"}`, id, g, g, id, g)
				if err != nil || !matched || string(out) != want {
					errs <- fmt.Errorf("got %s %v %v, want %s", out, matched, err, want)
					return
				}
				buf = out[:0]
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// ctxEnv records the context it is called with.
type ctxEnv struct{ got context.Context }

func (e *ctxEnv) GetThingShadow(ctx context.Context, thing, shadow string) ([]byte, error) {
	e.got = ctx
	if thing == "bad" {
		return []byte("not json"), nil
	}
	return []byte(`{"state":{"reported":{"on":true}}}`), nil
}

type ctxKey struct{}

// TestEval_EnvContext checks that get_thing_shadow passes Input.Context to
// the Env, and that a document that is not JSON is Undefined.
func TestEval_EnvContext(t *testing.T) {
	q, err := Parse("SELECT get_thing_shadow(thing, 'arn').state.reported.on AS on FROM 't'", "2016-03-23")
	if err != nil {
		t.Fatal(err)
	}
	env := &ctxEnv{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	out, _, err := q.Eval(&Input{Payload: []byte(`{"thing":"lamp"}`), Env: env, Context: ctx}, nil)
	if err != nil || string(out) != `{"on":true}` || env.got.Value(ctxKey{}) != "v" {
		t.Fatalf("Eval = %s, %v; context %v", out, err, env.got)
	}
	out, _, err = q.Eval(&Input{Payload: []byte(`{"thing":"bad"}`), Env: env}, nil)
	if err != nil || string(out) != `{}` || env.got == nil {
		t.Fatalf("bad document: Eval = %s, %v", out, err)
	}
}

// TestEval_RuntimeErrors checks the errors Eval reports for the error action.
func TestEval_RuntimeErrors(t *testing.T) {
	q, err := Parse("SELECT *, 1 AS one FROM 't'", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, matched, err := q.Eval(&Input{Payload: []byte("[1]")}, nil); !matched || !errors.Is(err, ErrStarNotObject) {
		t.Fatalf("array payload: matched %v, err %v", matched, err)
	}
	q, err = Parse("SELECT get_thing_shadow('x', 'arn') AS s FROM 't'", "2016-03-23")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Eval(&Input{Payload: []byte("{}")}, nil); !errors.Is(err, ErrNoEnv) {
		t.Fatalf("nil Env: err %v", err)
	}
}

// TestEval_OutputIsJSON runs every golden statement that produces an
// object on a few payloads and checks the output parses.
func TestEval_OutputIsJSON(t *testing.T) {
	payloads := []string{`{}`, `{"a":{"b":[1,"x",null]},"e":[{"n":"t","v":1.5}],"t":1e2}`, `[1,2]`, `"s"`, `not json`}
	for _, cases := range loadGolden(t, "testdata/eval/*.jsonl") {
		for _, g := range cases {
			q, err := Parse(g.SQL, g.Version)
			if err != nil {
				continue
			}
			for _, p := range payloads {
				out, matched, err := q.Eval(&Input{Topic: "a/b", Payload: []byte(p), Env: fakeEnv{}}, nil)
				if err != nil || !matched || len(out) == 0 || string(out) == p {
					continue
				}
				if !json.Valid(out) {
					t.Errorf("%s on %s: invalid JSON %s", g.SQL, p, out)
				}
			}
		}
	}
}
