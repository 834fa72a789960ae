// Package iotsql implements the AWS IoT SQL language of topic rules: the
// statement of a rule (SELECT ... FROM 'topic/filter' WHERE ...) and the
// substitution templates (${expression}) of its actions, with AWS's types,
// operators, functions and Undefined semantics, for SQL versions
// 2015-10-08 (the default) and 2016-03-23 ("beta" behaves as 2016-03-23).
//
// # Using it
//
// A rule is compiled once and evaluated for every message its FROM filter
// matches:
//
//	q, err := iotsql.Parse("SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 30", "2016-03-23")
//	// err is a *SyntaxError ("line 1:17: expected FROM, found 'WHERE'") for a bad statement
//	sub := q.Topic() // "sensors/+/data": what the engine subscribes to
//	...
//	out, matched, err := q.Eval(&iotsql.Input{Topic: t, Payload: p, ClientID: id, Timestamp: ms}, buf)
//
// matched is false when the WHERE clause is not the Boolean true; out is
// then nil. Otherwise out is the result for the rule's actions: a JSON
// object, or with SELECT * the payload itself, or with SELECT VALUE a bare
// value. err is a runtime failure for the rule's error action. Action
// parameters are templates:
//
//	t, err := iotsql.ParseTemplate("alerts/${topic(2)}/${upper(level)}", version)
//	topic, err := t.Render(in) // evaluated against the incoming message, like AWS
//
// Query and Template are immutable and safe for concurrent use.
//
// # Stages
//
// Like cel-go, the language is built in stages, one file each: lexer.go
// splits the statement into tokens; parser.go builds the syntax tree of
// ast.go, reporting the first error with its line and column; compile.go
// turns the tree into evaluable nodes (nodes.go), binding functions by name
// (case-insensitive), checking their argument counts and the SQL version of
// each feature, and folding constant sub-expressions (topic(2)'s argument, a
// constant regular expression, 'a' || 'b'); eval.go, ops.go and convert.go
// evaluate, and the func_*.go files hold the functions.
//
// # Values
//
// A value (value.go) is a small tagged struct of AWS's types: Int, Decimal,
// Boolean, String, Array, Object, Null and Undefined, plus Binary for a
// payload that is not JSON. Undefined is "not a value": a missing field, a
// function given arguments it cannot use, a division by zero. It propagates
// through operators and functions, makes a SELECT item drop out of the
// result, and makes a WHERE clause false (anything but Boolean true is).
//
// Int is a 64-bit integer (AWS's has 34 digits): Int arithmetic that
// overflows continues in Decimal, and a payload integer beyond 64 bits is a
// Decimal. Decimal is a decimal number with 34 significant digits (decimal128,
// rounding half-even), like Java's BigDecimal that AWS uses, so that
// 0.1 + 0.2 is 0.3 and 10.0 * 2 is 20.0; the trigonometric and logarithmic
// functions return doubles, printed as Java prints them (sqrt(9) is 3.0).
// With SQL 2016-03-23 a whole Decimal is an Int (10.0 is 10), as AWS
// documents. Magnitudes beyond 9.999E999 are Undefined.
//
// # Payloads without maps
//
// Eval never decodes the payload into maps. It validates it once (JSON
// syntax, UTF-8, at most 1000 levels deep) while recording the members of a
// top-level object, and reads values lazily from the text: a field is a
// slice of the payload, a string without escapes points into it, numbers are
// parsed when used. Strings the evaluation makes (conversions, functions)
// go to a scratch buffer reused across evaluations through a sync.Pool. So
// the WHERE clause of a typical rule evaluates without allocating, and the
// SELECT writes straight into the caller's buffer. A payload that is not
// valid JSON is binary: SELECT * passes it through unchanged,
// encode(*, 'base64') encodes it, and its fields are Undefined.
//
// # Where moat differs from AWS
//
//   - Functions that call other AWS services (aws_lambda, get_dynamodb,
//     get_secret, machinelearning_predict, decode with 'proto', ...) are
//     compile errors that say so. get_thing_shadow reads shadows through
//     Input.Env and ignores its role ARN.
//   - Regular expressions are Go's RE2 (no backreferences or lookaround);
//     replacement strings follow Java's syntax ($1, ${name}, \$).
//   - Character positions and lengths count Unicode code points; Java
//     counts UTF-16 units, which differ for characters outside the BMP.
//   - parse_time and time_to_epoch support the pattern letters listed in
//     func_time.go, not all of Joda-Time's and java.time's.
//   - Where AWS's pages contradict themselves, moat follows the type table
//     over a one-line example: get('abc', 1) is "b" (0-based, as the table
//     says), bitnot(13) is -14, round() rounds half away from zero, and
//     Decimal arguments that need an Int are truncated toward zero (the
//     substring examples).
//   - Additions the AWS pages do not show: x IS [NOT] NULL,
//     x IS [NOT] UNDEFINED, x NOT IN arr, a || b (concat), the searched
//     CASE WHEN cond THEN ..., and isString, isNumber, isBoolean, isArray,
//     isObject.
//   - An unaliased SELECT item is named by its last field name (a.b → "b"),
//     its function's name (upper(x) → "upper") or, for another expression,
//     "_" and its position ("_2"). A dotted alias (AS a.b) builds nested
//     objects.
package iotsql
