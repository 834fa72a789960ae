package iotsql

import (
	"fmt"
	"strconv"
	"strings"
)

// compiler turns the AST into evaluable nodes: it binds functions, checks
// their arity and the SQL version of each feature, and folds constant
// sub-expressions. Errors are SyntaxErrors with the position of the node.
type compiler struct {
	version string
	v2      bool // 2016-03-23 or beta
}

// fail raises a compile error at a byte offset; like the parser's errors it
// unwinds by panic and is recovered where compilation started.
func (cp *compiler) fail(pos int, format string, args ...any) {
	panic(bailout{&posError{pos, fmt.Sprintf(format, args...)}})
}

// needV2 rejects a feature of SQL 2016-03-23 in a 2015-10-08 statement.
func (cp *compiler) needV2(pos int, what string) {
	if !cp.v2 {
		cp.fail(pos, "%s requires awsIotSqlVersion 2016-03-23 (this rule uses %s)", what, cp.version)
	}
}

// expr compiles one expression.
func (cp *compiler) expr(e expr) node {
	n := cp.expr1(e)
	return cp.fold(n)
}

func (cp *compiler) expr1(e expr) node {
	switch e := e.(type) {
	case *identExpr:
		return &fieldNode{name: e.name}
	case *starExpr:
		return starNode{}
	case *litExpr:
		return cp.literal(e)
	case *unaryExpr:
		x := cp.expr(e.x)
		switch e.op {
		case "NOT":
			return &notNode{x: x}
		case "-":
			return &negNode{x: x}
		}
		return &plusNode{x: x}
	case *binaryExpr:
		return cp.binary(e)
	case *isExpr:
		return &isNode{x: cp.expr(e.x), not: e.not, undefined: e.undefined}
	case *fieldExpr:
		return &pathNode{x: cp.expr(e.x), name: e.name}
	case *indexExpr:
		return &indexNode{x: cp.expr(e.x), i: cp.expr(e.i)}
	case *callExpr:
		return cp.call(e)
	case *castExpr:
		return cp.cast(e)
	case *caseExpr:
		c := &caseNode{}
		if e.operand != nil {
			c.operand = cp.expr(e.operand)
		}
		for _, w := range e.whens {
			c.conds = append(c.conds, cp.expr(w.cond))
			c.results = append(c.results, cp.expr(w.result))
		}
		if e.els != nil {
			c.els = cp.expr(e.els)
		}
		return c
	case *objectExpr:
		cp.needV2(e.pos, "an object literal")
		o := &objectNode{}
		for i, k := range e.keys {
			o.set(k, cp.expr(e.vals[i]))
		}
		return o
	case *arrayExpr:
		cp.needV2(e.pos, "an array literal")
		a := &arrayNode{}
		for _, x := range e.elems {
			a.elems = append(a.elems, cp.expr(x))
		}
		return a
	case *subSelect:
		cp.needV2(e.pos, "a nested SELECT")
		return &subSelectNode{sel: cp.selectProg(e.sel)}
	}
	panic(fmt.Sprintf("iotsql: unknown AST node %T", e))
}

func (cp *compiler) literal(e *litExpr) node {
	switch e.kind {
	case tString:
		return constNode{strV(e.str)}
	case tNumber:
		c := newConstCtx(cp)
		v := c.number(e.text)
		if v.k == kUndefined {
			cp.fail(e.pos, "number %s is outside the range of Decimal", e.text)
		}
		return constNode{v}
	}
	switch e.text {
	case "true":
		return constNode{trueV}
	case "false":
		return constNode{falseV}
	}
	return constNode{nullV}
}

func (cp *compiler) binary(e *binaryExpr) node {
	x, y := cp.expr(e.x), cp.expr(e.y)
	switch e.word {
	case "AND":
		return &andNode{x: x, y: y}
	case "OR":
		return &orNode{x: x, y: y}
	case "IN":
		return &inNode{x: x, y: y}
	}
	switch e.op {
	case tEq, tNe:
		return &eqNode{x: x, y: y, ne: e.op == tNe}
	case tLt, tLe, tGt, tGe:
		return &cmpNode{op: e.op, x: x, y: y}
	case tConcat:
		return &callNode{fn: funcs["concat"], args: []node{x, y}}
	}
	return &arithNode{op: e.op, x: x, y: y}
}

// cast binds cast(x AS type) to one of AWS's type keywords.
func (cp *compiler) cast(e *castExpr) node {
	t := strings.ToLower(e.typ)
	var k kind
	dbl := false
	switch t {
	case "string", "nvarchar", "text", "ntext", "varchar":
		k = kString
	case "int", "integer":
		k = kInt
	case "double":
		k, dbl = kDecimal, true
	case "decimal":
		cp.needV2(e.typPos, "cast to "+e.typ)
		k = kDecimal
	case "bool", "boolean":
		cp.needV2(e.typPos, "cast to "+e.typ)
		k = kBool
	default:
		cp.fail(e.typPos, "unknown type %s in cast (expected String, Int, Integer, Double, Decimal, Bool, Boolean, Nvarchar, Text, Ntext or Varchar)", quoteText(e.typ))
	}
	return &castNode{x: cp.expr(e.x), to: k, dbl: dbl}
}

// call binds a function call.
func (cp *compiler) call(e *callExpr) node {
	f, ok := funcs[e.name]
	if !ok {
		if why, ok := unsupported[e.name]; ok {
			cp.fail(e.pos, "function %s is not supported by moat: %s", e.name, why)
		}
		cp.fail(e.pos, "unknown function %s", e.name)
	}
	if f.v2 {
		cp.needV2(e.pos, "function "+f.name)
	}
	if len(e.args) < f.min || (f.max >= 0 && len(e.args) > f.max) {
		cp.fail(e.pos, "function %s takes %s, got %d", f.name, arity(f), len(e.args))
	}
	n := &callNode{fn: f}
	for _, a := range e.args {
		n.args = append(n.args, cp.expr(a))
	}
	if f.bind != nil {
		if msg := f.bind(n); msg != "" {
			cp.fail(e.pos, "function %s: %s", f.name, msg)
		}
	}
	if len(n.args) > 0 {
		consts := make([]value, len(n.args))
		for i := range n.args {
			v, ok := n.constArg(i)
			if !ok {
				return n
			}
			consts[i] = v
		}
		n.consts = consts
	}
	return n
}

func arity(f *funcDef) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case f.max < 0:
		return "at least " + plural(f.min)
	case f.min == f.max:
		return plural(f.min)
	case f.max == f.min+1:
		return strconv.Itoa(f.min) + " or " + strconv.Itoa(f.max) + " arguments"
	}
	return strconv.Itoa(f.min) + " to " + plural(f.max)
}

// fold evaluates a node whose inputs are all constant, once, at compile
// time. Functions that read the message or are random are never folded.
func (cp *compiler) fold(n node) node {
	if _, ok := n.(constNode); ok || !foldable(n) {
		return n
	}
	c := newConstCtx(cp)
	return constNode{n.eval(c)}
}

// foldable reports whether n and all its inputs are constant.
func foldable(n node) bool {
	isConst := func(ns ...node) bool {
		for _, x := range ns {
			if x == nil {
				continue
			}
			if _, ok := x.(constNode); !ok {
				return false
			}
		}
		return true
	}
	switch n := n.(type) {
	case *notNode:
		return isConst(n.x)
	case *negNode:
		return isConst(n.x)
	case *plusNode:
		return isConst(n.x)
	case *andNode:
		return isConst(n.x, n.y)
	case *orNode:
		return isConst(n.x, n.y)
	case *inNode:
		return isConst(n.x, n.y)
	case *eqNode:
		return isConst(n.x, n.y)
	case *cmpNode:
		return isConst(n.x, n.y)
	case *arithNode:
		return isConst(n.x, n.y)
	case *isNode:
		return isConst(n.x)
	case *pathNode:
		return isConst(n.x)
	case *indexNode:
		return isConst(n.x, n.i)
	case *castNode:
		return isConst(n.x)
	case *callNode:
		return n.fn.pure && isConst(n.args...)
	case *objectNode:
		return isConst(n.vals...)
	case *arrayNode:
		return isConst(n.elems...)
	case *caseNode:
		return isConst(n.operand, n.els) && isConst(n.conds...) && isConst(n.results...)
	}
	return false
}

// selectProg compiles a SELECT, the statement's or a nested one.
func (cp *compiler) selectProg(s *selectStmt) *selectProg {
	p := &selectProg{value: s.value}
	if s.from != nil {
		p.from = cp.expr(s.from)
	}
	if s.where != nil {
		p.where = cp.expr(s.where)
	}
	for i, it := range s.items {
		if it.star && !s.value {
			p.star = true
			continue
		}
		var x node = starNode{}
		if !it.star {
			x = cp.expr(it.x)
		}
		if s.value {
			p.valueExpr = x
			continue
		}
		path := it.alias
		if path == nil {
			path = []string{defaultKey(it.x, i+1)}
		}
		p.out = p.out.set(path, x)
	}
	p.out.precompute()
	return p
}

// defaultKey names an unaliased SELECT item as AWS does: a field by its
// last name (a.b.c → "c"), a function call by the function's name, and any
// other expression "_<position>".
func defaultKey(e expr, pos int) string {
	for {
		switch x := e.(type) {
		case *identExpr:
			return x.name
		case *fieldExpr:
			return x.name
		case *indexExpr:
			e = x.x
			continue
		case *callExpr:
			return x.name
		case *castExpr:
			return "cast"
		}
		return "_" + strconv.Itoa(pos)
	}
}

// outFields is the shape of a SELECT's output object: keys in SELECT order,
// each a value or (for dotted aliases) a nested object.
type outFields []*outField

type outField struct {
	key  string
	head []byte // `"key":`, JSON-quoted
	x    node   // nil for a nested object
	kids outFields
}

// set places x at path, replacing what a previous item put there.
func (fs outFields) set(path []string, x node) outFields {
	for _, f := range fs {
		if f.key != path[0] {
			continue
		}
		if len(path) == 1 {
			f.x, f.kids = x, nil
			return fs
		}
		f.x = nil
		f.kids = f.kids.set(path[1:], x)
		return fs
	}
	f := &outField{key: path[0]}
	if len(path) == 1 {
		f.x = x
	} else {
		f.kids = outFields(nil).set(path[1:], x)
	}
	return append(fs, f)
}

func (fs outFields) precompute() {
	for _, f := range fs {
		f.head = append(appendQuoted(nil, f.key), ':')
		f.kids.precompute()
	}
}

// has reports whether key is one of the top-level output keys.
func (fs outFields) has(key string, esc bool) bool {
	for _, f := range fs {
		if keyEquals(key, esc, f.key) {
			return true
		}
	}
	return false
}
