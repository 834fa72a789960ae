package iotsql

import (
	"context"
	"fmt"
	"sync"

	"github.com/moat-iot/moat/internal/topic"
)

// SQL versions (a rule's awsIotSqlVersion).
const (
	Version20151008 = "2015-10-08"
	Version20160323 = "2016-03-23"
	VersionBeta     = "beta" // treated as 2016-03-23
	DefaultVersion  = Version20151008
)

// Input is one message as a rule sees it.
type Input struct {
	// Topic is what topic() returns: the topic the message was published
	// to; for Basic Ingest, without the "$aws/rules/<rule>/" prefix (the
	// engine strips it).
	Topic string

	// Payload is the message payload. It must not be modified during Eval
	// or Render.
	Payload []byte

	// ClientID is the publisher's MQTT client ID; "" when the message did
	// not come over MQTT (an HTTPS publish), and clientid() is then "n/a"
	// as on AWS.
	ClientID string

	// Principal is what principal() returns ("" makes it Undefined).
	Principal string

	// Timestamp is what timestamp() returns: milliseconds since the epoch
	// when the broker received the message. 0 means the time of the call.
	Timestamp int64

	// TraceID is what traceid() returns ("" makes it Undefined, as for a
	// message that did not come over MQTT).
	TraceID string

	// AccountID is what accountid() returns, the account owning the rule
	// ("" makes it Undefined).
	AccountID string

	// Env provides the services of get_thing_shadow. nil: a call fails
	// the evaluation with ErrNoEnv.
	Env Env

	// Context bounds calls to Env; nil means context.Background().
	Context context.Context
}

// Env is what rules may read besides the message.
type Env interface {
	// GetThingShadow returns a shadow document's JSON; shadowName "" is
	// the classic shadow. An error (no such thing or shadow) makes
	// get_thing_shadow Undefined.
	GetThingShadow(ctx context.Context, thing, shadowName string) ([]byte, error)
}

// Query is a compiled rule statement. It is immutable and safe for
// concurrent use.
type Query struct {
	sql     string
	version string
	v2      bool
	topic   string
	prog    *selectProg
	pool    sync.Pool // of *evalCtx
}

// Parse parses and compiles a rule's SQL statement. version "" means
// DefaultVersion; an unknown version is ErrVersion. Statement errors are
// *SyntaxError.
func Parse(sql, version string) (*Query, error) {
	version, v2, err := checkVersion(version)
	if err != nil {
		return nil, err
	}
	stmt, perr := parseStatement(sql)
	if perr != nil {
		return nil, syntaxError(sql, perr.pos, perr.msg)
	}
	if stmt.topic != "" || stmt.topicPos != 0 {
		if err := topic.ValidateFilter(stmt.topic, topic.AWSLimits()); err != nil {
			return nil, syntaxError(sql, stmt.topicPos, fmt.Sprintf("invalid topic filter %s: %v", quoteText(stmt.topic), err))
		}
		if _, _, shared, _ := topic.ParseShared(stmt.topic); shared {
			return nil, syntaxError(sql, stmt.topicPos, "a rule cannot use a shared subscription ($share/...) topic filter")
		}
	}
	cp := &compiler{version: version, v2: v2}
	prog, perr := cp.compile(stmt)
	if perr != nil {
		return nil, syntaxError(sql, perr.pos, perr.msg)
	}
	return &Query{sql: sql, version: version, v2: v2, topic: stmt.topic, prog: prog}, nil
}

// checkVersion resolves an awsIotSqlVersion.
func checkVersion(v string) (string, bool, error) {
	switch v {
	case "":
		return DefaultVersion, false, nil
	case Version20151008:
		return v, false, nil
	case Version20160323, VersionBeta:
		return v, true, nil
	}
	return "", false, fmt.Errorf("%w %q (expected %s, %s or %s)", ErrVersion, v, Version20151008, Version20160323, VersionBeta)
}

// compile compiles a parsed statement, recovering compile errors.
func (cp *compiler) compile(stmt *selectStmt) (prog *selectProg, err *posError) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			prog, err = nil, b.err
		}
	}()
	return cp.selectProg(stmt), nil
}

// Topic returns the FROM topic filter as written, "" for a statement
// without FROM (a rule reached only through Basic Ingest).
func (q *Query) Topic() string { return q.topic }

// SQL returns the statement as given to Parse.
func (q *Query) SQL() string { return q.sql }

// Version returns the SQL version the statement was compiled for.
func (q *Query) Version() string { return q.version }

// Eval runs the query on a message. matched is false when the WHERE clause
// is not true; result is then nil. Otherwise result is the SELECT output
// appended to buf[:0]: a JSON object; for SELECT * the payload (as
// compacted JSON, or unchanged when it is not JSON); for SELECT VALUE the
// value's JSON, raw bytes for a binary payload, or nothing when it is
// Undefined. err is a runtime failure (ErrNoEnv, ErrStarNotObject) for the
// rule's error action.
//
// Eval allocates nothing when the WHERE clause is false, and usually
// nothing otherwise when buf has room, unless the statement builds arrays
// or objects.
func (q *Query) Eval(in *Input, buf []byte) (result []byte, matched bool, err error) {
	c := q.getCtx(in)
	defer q.putCtx(c)
	p := q.prog
	if p.where != nil && !p.where.eval(c).isTrue() {
		return nil, false, c.err
	}
	out, err := p.output(c, buf[:0])
	if err == nil {
		err = c.err
	}
	if err != nil {
		return nil, true, err
	}
	return out, true, nil
}

func (q *Query) getCtx(in *Input) *evalCtx {
	c, _ := q.pool.Get().(*evalCtx)
	if c == nil {
		c = &evalCtx{}
	}
	c.reset(in, q.v2, q.version)
	return c
}

func (q *Query) putCtx(c *evalCtx) {
	c.release()
	q.pool.Put(c)
}

// selectProg is a compiled SELECT, top-level or nested.
type selectProg struct {
	value     bool      // SELECT VALUE
	valueExpr node      // its expression
	star      bool      // * among the items
	out       outFields // the other items
	from      node      // nested SELECT: what FROM reads
	where     node      // nil: always true
}

// output appends the statement's result to dst.
func (p *selectProg) output(c *evalCtx, dst []byte) ([]byte, error) {
	if p.value {
		v := p.valueExpr.eval(c)
		switch v.k {
		case kUndefined:
			return dst, nil // "Undefined is converted to an empty string"
		case kBinary:
			return append(dst, v.s...), nil
		}
		return c.appendValue(dst, v), nil
	}
	if p.star && len(p.out) == 0 {
		root := c.doc()
		if root.k == kBinary {
			return append(dst, c.payload...), nil
		}
		return c.appendValue(dst, root), nil
	}
	dst = append(dst, '{')
	first := true
	if p.star {
		root := c.doc()
		if root.k != kObject {
			return dst, ErrStarNotObject
		}
		it := newObjIter(root.s)
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			if p.out.has(k, hasEscape(k)) {
				continue // an explicit item replaces the payload's key
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = append(dst, k...)
			dst = append(dst, '"', ':')
			dst = appendCompact(dst, v, c.v2)
		}
	}
	dst, _ = p.out.appendTo(c, dst, first)
	return append(dst, '}'), nil
}

// appendTo appends the fields that are not Undefined, after a comma unless
// first; wrote reports whether any was.
func (fs outFields) appendTo(c *evalCtx, dst []byte, first bool) (out []byte, wrote bool) {
	for _, f := range fs {
		if f.x == nil {
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, f.head...)
			dst = append(dst, '{')
			var any bool
			if dst, any = f.kids.appendTo(c, dst, true); !any {
				dst = dst[:mark] // an object of Undefined values is left out
				continue
			}
			dst = append(dst, '}')
			first, wrote = false, true
			continue
		}
		v := f.x.eval(c)
		if !storable(v) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first, wrote = false, true
		dst = append(dst, f.head...)
		dst = c.appendValue(dst, v)
	}
	return dst, wrote
}

// evalNested evaluates a nested SELECT: over each element of an array
// (giving an array of results, rows failing WHERE left out) or over one
// object (giving its result, Undefined when WHERE fails).
func (p *selectProg) evalNested(c *evalCtx) value {
	src := p.from.eval(c)
	saved := c.row
	defer func() { c.row = saved }()
	switch src.k {
	case kArray:
		var out []value
		c.elements(src, func(e value) bool {
			c.row = &e
			if v := p.row(c); storable(v) {
				out = append(out, v)
			}
			return true
		})
		return arrV(out)
	case kObject:
		c.row = &src
		return p.row(c)
	}
	return undef
}

// row evaluates a nested SELECT for the current row.
func (p *selectProg) row(c *evalCtx) value {
	if p.where != nil && !p.where.eval(c).isTrue() {
		return undef
	}
	if p.value {
		return p.valueExpr.eval(c)
	}
	obj := &ext{}
	if p.star && c.row.k == kObject {
		c.objectMembers(*c.row, func(k string, v value) {
			if !p.out.has(k, false) {
				obj.keys = append(obj.keys, k)
				obj.vals = append(obj.vals, v)
			}
		})
	}
	p.out.build(c, obj)
	return value{k: kObject, x: obj}
}

// build evaluates the fields into a built object.
func (fs outFields) build(c *evalCtx, obj *ext) {
	for _, f := range fs {
		var v value
		if f.x == nil {
			kid := &ext{}
			f.kids.build(c, kid)
			if len(kid.keys) == 0 {
				continue
			}
			v = value{k: kObject, x: kid}
		} else if v = f.x.eval(c); !storable(v) {
			continue
		}
		obj.keys = append(obj.keys, f.key)
		obj.vals = append(obj.vals, v)
	}
}
