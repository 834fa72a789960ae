package iotsql

import (
	"strings"
	"sync"
)

// Template is a substitution template: an action parameter in which each
// ${expression} is replaced by the expression's value. As on AWS, the
// expressions are evaluated against the incoming message (its payload,
// topic, client ID, ...), not against the SELECT result: they cannot see
// the statement's aliases. A Template is safe for concurrent use.
type Template struct {
	src     string
	version string
	v2      bool
	parts   []tmplPart
	pool    sync.Pool // of *evalCtx
}

// tmplPart is literal text or an expression.
type tmplPart struct {
	text string
	x    node
}

// ParseTemplate parses a substitution template. version is the rule's SQL
// version ("" for DefaultVersion), which decides the expressions' syntax
// and semantics. A "$" not followed by "{" is literal; an expression runs
// to its matching "}" (braces inside strings and object literals do not
// end it). Errors are *SyntaxError located in s, or ErrVersion.
func ParseTemplate(s, version string) (*Template, error) {
	version, v2, err := checkVersion(version)
	if err != nil {
		return nil, err
	}
	t := &Template{src: s, version: version, v2: v2}
	cp := &compiler{version: version, v2: v2}
	var text strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			text.WriteString(s[i:])
			break
		}
		text.WriteString(s[i : i+j])
		start := i + j + 2
		x, end, perr := parseTemplateExpr(s, start)
		if perr != nil {
			if strings.IndexByte(s[start:], '}') < 0 {
				return nil, syntaxError(s, i+j, "unterminated ${ in template")
			}
			return nil, syntaxError(s, perr.pos, perr.msg)
		}
		n, perr := cp.compileTemplateExpr(x)
		if perr != nil {
			return nil, syntaxError(s, perr.pos, perr.msg)
		}
		if k, ok := n.(constNode); ok {
			c := newConstCtx(cp)
			text.WriteString(c.templateText(k.v))
		} else {
			if text.Len() > 0 {
				t.parts = append(t.parts, tmplPart{text: text.String()})
				text.Reset()
			}
			t.parts = append(t.parts, tmplPart{x: n})
		}
		i = end + 1
	}
	if text.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, tmplPart{text: text.String()})
	}
	return t, nil
}

func (cp *compiler) compileTemplateExpr(x expr) (n node, err *posError) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	return cp.expr(x), nil
}

// IsConstant reports whether the template has no expression that depends
// on the message (constant expressions are replaced when parsing).
func (t *Template) IsConstant() bool { return len(t.parts) == 1 && t.parts[0].x == nil }

// String returns the template as written.
func (t *Template) String() string { return t.src }

// Render evaluates the template for a message. A value renders as its
// string form (numbers and Booleans as text, objects and arrays as JSON),
// Null as "null" and Undefined as "". err is a runtime failure (ErrNoEnv).
func (t *Template) Render(in *Input) (string, error) {
	if t.IsConstant() {
		return t.parts[0].text, nil
	}
	c, _ := t.pool.Get().(*evalCtx)
	if c == nil {
		c = &evalCtx{}
	}
	c.reset(in, t.v2, t.version)
	defer func() {
		c.release()
		t.pool.Put(c)
	}()
	var b strings.Builder
	for _, p := range t.parts {
		if p.x == nil {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(c.templateText(p.x.eval(c)))
	}
	if c.err != nil {
		return "", c.err
	}
	return b.String(), nil
}

// templateText is a value's text in a template.
func (c *evalCtx) templateText(v value) string {
	switch v.k {
	case kUndefined:
		return ""
	case kNull:
		return "null"
	case kBinary:
		return v.s
	}
	s, _ := c.toStr(v)
	return s
}
