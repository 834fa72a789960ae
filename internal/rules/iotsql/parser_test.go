package iotsql

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// dump prints an expression with explicit structure, for tests.
func dump(e expr) string {
	switch e := e.(type) {
	case *identExpr:
		return e.name
	case *starExpr:
		return "*"
	case *litExpr:
		if e.kind == tString {
			return fmt.Sprintf("%q", e.str)
		}
		return e.text
	case *unaryExpr:
		return "(" + e.op + " " + dump(e.x) + ")"
	case *binaryExpr:
		op := e.word
		if op == "" {
			op = strings.Trim(e.op.String(), "'")
		}
		return "(" + dump(e.x) + " " + op + " " + dump(e.y) + ")"
	case *isExpr:
		s := "(" + dump(e.x) + " IS "
		if e.not {
			s += "NOT "
		}
		if e.undefined {
			return s + "UNDEFINED)"
		}
		return s + "NULL)"
	case *fieldExpr:
		return dump(e.x) + "." + e.name
	case *indexExpr:
		return dump(e.x) + "[" + dump(e.i) + "]"
	case *callExpr:
		var args []string
		for _, a := range e.args {
			args = append(args, dump(a))
		}
		return e.name + "(" + strings.Join(args, ", ") + ")"
	case *castExpr:
		return "cast(" + dump(e.x) + " AS " + e.typ + ")"
	case *caseExpr:
		s := "CASE"
		if e.operand != nil {
			s += " " + dump(e.operand)
		}
		for _, w := range e.whens {
			s += " WHEN " + dump(w.cond) + " THEN " + dump(w.result)
		}
		if e.els != nil {
			s += " ELSE " + dump(e.els)
		}
		return s + " END"
	case *objectExpr:
		var kv []string
		for i, k := range e.keys {
			kv = append(kv, fmt.Sprintf("%q: %s", k, dump(e.vals[i])))
		}
		return "{" + strings.Join(kv, ", ") + "}"
	case *arrayExpr:
		var xs []string
		for _, x := range e.elems {
			xs = append(xs, dump(x))
		}
		return "[" + strings.Join(xs, ", ") + "]"
	case *subSelect:
		return "(SELECT ... FROM " + dump(e.sel.from) + ")"
	}
	return fmt.Sprintf("?%T", e)
}

// TestParse_Expressions checks precedence and associativity through the
// printed tree.
func TestParse_Expressions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"1 - 2 - 3", "((1 - 2) - 3)"},
		{"a OR b AND c", "(a OR (b AND c))"},
		{"NOT a = b AND c", "((NOT (a = b)) AND c)"},
		{"NOT NOT a", "(NOT (NOT a))"},
		{"-a.b[0] * 2", "((- a.b[0]) * 2)"},
		{"-5 - -3", "(-5 - -3)"},
		{"a || b + c", "(a || (b + c))"},
		{"a = b || c", "(a = (b || c))"},
		{"x IN arr AND y NOT IN arr", "((x IN arr) AND (NOT (y IN arr)))"},
		{"a IS NOT NULL OR b IS UNDEFINED", "((a IS NOT NULL) OR (b IS UNDEFINED))"},
		{"a <> b", "(a '<>' b)"},
		{"a != b", "(a '<>' b)"},
		{"get(get(a, 'x'), 0).y", "get(get(a, \"x\"), 0).y"},
		{"Upper(a)", "upper(a)"},
		{"cast(a + 1 AS Int)", "cast((a + 1) AS Int)"},
		{"CASE a WHEN 1 THEN 'x' ELSE 'y' END", "CASE a WHEN 1 THEN \"x\" ELSE \"y\" END"},
		{"CASE WHEN a > 1 THEN 1 END", "CASE WHEN (a > 1) THEN 1 END"},
		{"{'k': [1, {\"z\": null}]}", "{\"k\": [1, {\"z\": null}]}"},
		{"(SELECT VALUE n FROM e)", "(SELECT ... FROM e)"},
		{"encode(*, 'base64')", "encode(*, \"base64\")"},
		{"a.end.value", "a.end.value"},
		{"'it''s'", "\"it's\""},
		{"1.5e-3", "1.5e-3"},
	} {
		x, _, err := parseTemplateExpr(tc.in+"}", 0)
		if err != nil {
			t.Errorf("%q: %s", tc.in, err.msg)
			continue
		}
		if got := dump(x); got != strings.ReplaceAll(tc.want, "'<>'", "<>") && got != tc.want {
			t.Errorf("%q parsed as %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParse_Statement checks the parts of a statement.
func TestParse_Statement(t *testing.T) {
	s, err := parseStatement("SELECT *, a AS x.y, VALUE FROM 'a/+/#' WHERE b")
	if err != nil {
		t.Fatal(err.msg)
	}
	if s.topic != "a/+/#" || s.topicPos != 31 || s.value || len(s.items) != 3 || !s.items[0].star {
		t.Fatalf("parsed %+v", s)
	}
	if strings.Join(s.items[1].alias, ".") != "x.y" || dump(s.items[2].x) != "VALUE" || dump(s.where) != "b" {
		t.Fatalf("items %+v where %s", s.items, dump(s.where))
	}
	s, err = parseStatement("select value a from 't'")
	if err != nil || !s.value || dump(s.items[0].x) != "a" {
		t.Fatalf("SELECT VALUE: %+v %v", s, err)
	}
	s, err = parseStatement("SELECT 'it''s' FROM 'it''s'")
	if err != nil || s.topic != "it's" {
		t.Fatalf("quoted topic: %+v %v", s, err)
	}
}

// TestParse_SyntaxError checks the error type, position and message.
func TestParse_SyntaxError(t *testing.T) {
	_, err := Parse("SELECT a,\n   b c FROM 't'", "")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SyntaxError", err)
	}
	if se.Line != 2 || se.Col != 6 || se.Msg != "expected FROM, found 'c'" {
		t.Fatalf("got %+v", se)
	}
	if err.Error() != "line 2:6: expected FROM, found 'c'" {
		t.Fatalf("Error() = %q", err.Error())
	}
	if _, err := Parse("SELECT * FROM 't'", "2020-01-01"); !errors.Is(err, ErrVersion) {
		t.Fatalf("unknown version: %v", err)
	}
}

// TestQuery_Accessors checks Topic, SQL and Version.
func TestQuery_Accessors(t *testing.T) {
	q, err := Parse("SELECT * FROM 'a/+/c'", "")
	if err != nil {
		t.Fatal(err)
	}
	if q.Topic() != "a/+/c" || q.SQL() != "SELECT * FROM 'a/+/c'" || q.Version() != DefaultVersion {
		t.Fatalf("Topic %q SQL %q Version %q", q.Topic(), q.SQL(), q.Version())
	}
	q, err = Parse("SELECT a", VersionBeta)
	if err != nil || q.Topic() != "" || q.Version() != VersionBeta {
		t.Fatalf("no FROM: %v %q", err, q.Topic())
	}
}

// TestLexer_Tokens checks token kinds and string values.
func TestLexer_Tokens(t *testing.T) {
	l := lexer{src: `a_1 12.5e3 'x''y' "a\"b" <> != <= >= || ( ) [ ] { } , . : * + - / % = < >`}
	var got []string
	for {
		tok, err := l.next()
		if err != nil {
			t.Fatal(err.msg)
		}
		if tok.kind == tEOF {
			break
		}
		s := tok.kind.String()
		if tok.kind == tString || tok.kind == tDString {
			s += "=" + tok.val
		}
		got = append(got, s)
	}
	want := `name number string=x'y string=a"b '<>' '<>' '<=' '>=' '||' '(' ')' '[' ']' '{' '}' ',' '.' ':' '*' '+' '-' '/' '%' '=' '<' '>'`
	if strings.Join(got, " ") != want {
		t.Fatalf("tokens\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
