package iotsql

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/topic"
)

// fuzzPayload is the message FuzzParse evaluates accepted statements on.
var fuzzPayload = []byte(`{"a":1,"b":{"c":"x","d":[1,2.5,"s",null,true]},"e":[{"n":"t","v":22.5},{"n":"l","v":135}],"s":"héllo","t":10.0}`)

// FuzzParse: the lexer, parser and compiler never panic; an accepted
// statement has a valid FROM filter (or none) and evaluates without
// panicking to valid JSON; a rejected one gets a *SyntaxError with a
// position inside the statement.
func FuzzParse(f *testing.F) {
	f.Add("SELECT a, b.c AS c FROM 'x/+' WHERE d > 1", false)
	f.Fuzz(func(t *testing.T, sql string, v2 bool) {
		version := Version20151008
		if v2 {
			version = Version20160323
		}
		q, err := Parse(sql, version)
		if _, terr := ParseTemplate(sql, version); terr != nil {
			var se *SyntaxError
			if !errors.As(terr, &se) {
				t.Fatalf("ParseTemplate(%q) error %v is not a *SyntaxError", sql, terr)
			}
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", sql, err)
			}
			if se.Line < 1 || se.Col < 1 || se.Line > strings.Count(sql, "\n")+1 || se.Col > utf8.RuneCountInString(sql)+1 {
				t.Fatalf("Parse(%q): position %d:%d out of the statement", sql, se.Line, se.Col)
			}
			return
		}
		if tp := q.Topic(); tp != "" {
			if err := topic.ValidateFilter(tp, topic.AWSLimits()); err != nil {
				t.Fatalf("Parse(%q) accepted topic filter %q: %v", sql, tp, err)
			}
		}
		checkEval(t, q, &Input{Topic: "x/y", Payload: fuzzPayload, Env: fakeEnv{}})
	})
}

// fuzzQueries are evaluated on random payloads by FuzzEval.
var fuzzQueries = []struct{ sql, version string }{
	{"SELECT * FROM 'x'", ""},
	{"SELECT * FROM 'x'", "2016-03-23"},
	{"SELECT a, b.c AS c, d, topic(2) AS device FROM 'x' WHERE temperature > 30", ""},
	{"SELECT *, 1 AS one FROM 'x'", ""},
	{"SELECT VALUE * FROM 'x'", "2016-03-23"},
	{"SELECT VALUE a FROM 'x'", "2016-03-23"},
	{"SELECT encode(*, 'base64') AS p, decode(encode(*, 'base64'), 'base64') AS q FROM 'x'", "2016-03-23"},
	{"SELECT upper(a) AS u, a + 1 AS n, a * 2.5 AS m, a / 3 AS d, a % 2 AS r, -a AS g, a || 'x' AS s FROM 'x'", ""},
	{"SELECT a = b AS eq, a IN b AS i, b[0] AS f, get(a, 0) AS g, a.b.c AS p FROM 'x'", "2016-03-23"},
	{"SELECT (SELECT VALUE v FROM e WHERE n <> 'x') AS vs, (SELECT * FROM a) AS o FROM 'x'", "2016-03-23"},
	{"SELECT concat(a, b) AS c, length(a) AS l, substring(a, 1, 3) AS s, cast(a AS String) AS t, cast(a AS Int) AS i FROM 'x'", "2016-03-23"},
	{"SELECT transform('enrichArray', a, b) AS t, [a, b] AS arr, {'a': a, 'b': b} AS o FROM 'x'", "2016-03-23"},
	{"SELECT * FROM 'x' WHERE a > 1 OR b = 'x' OR c IS NULL", ""},
}

// FuzzEval: evaluating a set of statements on any payload never panics and
// produces valid JSON (or the payload itself, for SELECT * of a payload
// that is not JSON).
func FuzzEval(f *testing.F) {
	f.Add([]byte(`{"a":1}`), uint8(0))
	queries := make([]*Query, len(fuzzQueries))
	for i, fq := range fuzzQueries {
		q, err := Parse(fq.sql, fq.version)
		if err != nil {
			f.Fatalf("%s: %v", fq.sql, err)
		}
		queries[i] = q
	}
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		q := queries[int(which)%len(queries)]
		checkEval(t, q, &Input{Topic: "x/y/z", Payload: payload})
	})
}

// checkEval evaluates q and checks the shape of the result.
func checkEval(t *testing.T, q *Query, in *Input) {
	t.Helper()
	out, matched, err := q.Eval(in, nil)
	if err != nil {
		if !errors.Is(err, ErrStarNotObject) && !errors.Is(err, ErrNoEnv) {
			t.Fatalf("%s: unexpected error %v", q.SQL(), err)
		}
		return
	}
	if !matched {
		if out != nil {
			t.Fatalf("%s: output for an unmatched message", q.SQL())
		}
		return
	}
	if len(out) == 0 || string(out) == string(in.Payload) {
		return
	}
	if !json.Valid(out) {
		t.Fatalf("%s on %q: invalid JSON output %q", q.SQL(), in.Payload, out)
	}
}

// FuzzValidate compares the payload validator with encoding/json: they
// agree on UTF-8 input nested at most maxJSONDepth deep.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}],"c":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		_, start, end, ok := validate(s, nil)
		if ok != isJSON(s) {
			t.Fatalf("validate and isJSON disagree on %q", s)
		}
		if !utf8.Valid(data) || depth(data) > maxJSONDepth {
			if ok && !utf8.Valid(data) {
				t.Fatalf("accepted invalid UTF-8 %q", s)
			}
			return
		}
		if std := json.Valid(data); std != ok {
			t.Fatalf("validate(%q) = %v, encoding/json says %v", s, ok, std)
		}
		if ok {
			if skipValue(s, start) != end {
				t.Fatalf("skipValue(%q, %d) = %d, want %d", s, start, skipValue(s, start), end)
			}
			var compact []byte
			compact = appendCompact(compact, s[start:end], false)
			if !json.Valid(compact) {
				t.Fatalf("appendCompact(%q) = %q is not JSON", s, compact)
			}
		}
	})
}

// depth is an upper bound of the nesting of a JSON text.
func depth(b []byte) int {
	d, m := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}
