package iotsql

import (
	"strings"
)

// maxDepth bounds the depth of expression trees (nesting and chains of
// operators alike), so that neither compiling nor evaluating a statement
// recurses without bound (cel-go's MaxRecursionDepth plays the same role).
const maxDepth = 1000

// reserved are the words that cannot name a field without get(*, 'name').
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AS": true, "AND": true, "OR": true,
	"NOT": true, "IN": true, "IS": true, "CASE": true, "WHEN": true, "THEN": true,
	"ELSE": true, "END": true, "NULL": true, "TRUE": true, "FALSE": true,
}

// parser is a recursive-descent (Pratt) parser with one token of look-ahead
// and a second on demand.
type parser struct {
	lx    lexer
	tok   token
	ahead *token
	depth int
}

// bailout carries a parse error up the stack; parse recovers it.
type bailout struct{ err *posError }

func (p *parser) fail(pos int, msg string) { panic(bailout{&posError{pos, msg}}) }

// failExpected reports that what was found is not what was expected.
func (p *parser) failExpected(what string) {
	p.fail(p.tok.pos, "expected "+what+", found "+describe(p.tok))
}

func describe(t token) string {
	if t.kind == tEOF {
		return "end of input"
	}
	return quoteText(t.text)
}

func (p *parser) advance() {
	if p.ahead != nil {
		p.tok, p.ahead = *p.ahead, nil
		return
	}
	t, err := p.lx.next()
	if err != nil {
		panic(bailout{err})
	}
	p.tok = t
}

func (p *parser) peek() token {
	if p.ahead == nil {
		t, err := p.lx.next()
		if err != nil {
			panic(bailout{err})
		}
		p.ahead = &t
	}
	return *p.ahead
}

func (p *parser) expect(k tokKind) token {
	if p.tok.kind != k {
		p.failExpected(k.String())
	}
	t := p.tok
	p.advance()
	return t
}

func (p *parser) expectKW(kw string) {
	if !p.tok.is(kw) {
		p.failExpected(kw)
	}
	p.advance()
}

// parseStatement parses a whole rule statement.
func parseStatement(src string) (stmt *selectStmt, err *posError) {
	p := &parser{lx: lexer{src: src}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			stmt, err = nil, b.err
		}
	}()
	p.advance()
	stmt = p.selectStmt(true)
	if p.tok.kind != tEOF {
		p.failExpected("end of statement")
	}
	return stmt, nil
}

// parseTemplateExpr parses the expression of a ${...} segment starting at
// byte offset start of src, returning it and the offset of the closing '}'.
func parseTemplateExpr(src string, start int) (x expr, end int, err *posError) {
	p := &parser{lx: lexer{src: src, i: start}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			x, err = nil, b.err
		}
	}()
	p.advance()
	x = p.expr(0)
	if p.tok.kind != tRBrace {
		p.failExpected("'}'")
	}
	return x, p.tok.pos, nil
}

// selectStmt parses SELECT [VALUE] items [FROM ...] [WHERE ...]. At the top
// level FROM takes a quoted topic filter; in a nested SELECT, an expression.
func (p *parser) selectStmt(top bool) *selectStmt {
	s := &selectStmt{pos: p.tok.pos}
	p.expectKW("SELECT")
	if p.tok.is("VALUE") && p.valueKeyword() {
		s.value = true
		p.advance()
		s.items = []selectItem{p.selectItem()}
	} else {
		for {
			s.items = append(s.items, p.selectItem())
			if p.tok.kind != tComma {
				break
			}
			p.advance()
		}
	}
	if p.tok.is("FROM") {
		p.advance()
		if top {
			if p.tok.kind != tString {
				p.failExpected("topic filter in single quotes")
			}
			s.topic, s.topicPos = p.tok.val, p.tok.pos
			p.advance()
		} else {
			s.from = p.expr(0)
		}
	} else if !top {
		p.failExpected("FROM")
	}
	if p.tok.is("WHERE") {
		p.advance()
		s.where = p.expr(0)
	}
	if top && p.tok.kind != tEOF {
		if s.topic == "" && !p.tok.is("FROM") {
			p.failExpected("FROM")
		}
		p.failExpected("end of statement")
	}
	return s
}

// valueKeyword tells SELECT VALUE x from a field named value at the
// current token: "SELECT value FROM", "SELECT value - 1 AS v" and
// "SELECT value * 2 AS v" read the field; "SELECT VALUE *" and
// "SELECT VALUE x" are the keyword.
func (p *parser) valueKeyword() bool {
	next := p.peek()
	switch next.kind {
	case tMinus, tPlus:
		return false
	case tStar:
		l := p.lx // a copy: the token after next
		after, err := l.next()
		return err == nil && (after.kind == tEOF || after.kind == tRParen || after.kind == tDot || after.is("FROM") || after.is("WHERE"))
	}
	return startsExpr(next)
}

// startsExpr reports whether t can begin an expression.
func startsExpr(t token) bool {
	switch t.kind {
	case tIdent:
		u := strings.ToUpper(t.text)
		return !reserved[u] || u == "NOT" || u == "CASE" || u == "NULL" || u == "TRUE" || u == "FALSE"
	case tString, tDString, tNumber, tLParen, tLBrack, tLBrace, tStar, tMinus, tPlus:
		return true
	}
	return false
}

func (p *parser) selectItem() selectItem {
	if p.tok.kind == tStar {
		nt := p.peek()
		if nt.kind == tComma || nt.kind == tEOF || nt.kind == tRParen || nt.kind == tIdent && (nt.is("FROM") || nt.is("WHERE")) {
			p.advance()
			return selectItem{star: true}
		}
	}
	it := selectItem{x: p.expr(0)}
	if p.tok.is("AS") {
		p.advance()
		it.aliasPos = p.tok.pos
		it.alias = []string{p.aliasName()}
		for p.tok.kind == tDot {
			p.advance()
			it.alias = append(it.alias, p.aliasName())
		}
	}
	return it
}

// aliasName reads one name of an alias: any word but a reserved one.
func (p *parser) aliasName() string {
	if p.tok.kind != tIdent || reserved[strings.ToUpper(p.tok.text)] {
		p.failExpected("name")
	}
	t := p.tok
	p.advance()
	return t.text
}

// Binding powers, loosest first.
const (
	bpOr = iota + 1
	bpAnd
	bpNot
	bpCmp
	bpConcat
	bpAdd
	bpMul
	bpUnary
)

// infix returns the binding power of the operator at the current token, 0
// when it is not an infix operator.
func (p *parser) infix() int {
	switch p.tok.kind {
	case tIdent:
		switch {
		case p.tok.is("OR"):
			return bpOr
		case p.tok.is("AND"):
			return bpAnd
		case p.tok.is("IN"), p.tok.is("IS"):
			return bpCmp
		case p.tok.is("NOT") && p.peek().is("IN"):
			return bpCmp
		}
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return bpCmp
	case tConcat:
		return bpConcat
	case tPlus, tMinus:
		return bpAdd
	case tStar, tSlash, tPercent:
		return bpMul
	}
	return 0
}

// expr parses an expression whose operators bind tighter than minBP.
func (p *parser) expr(minBP int) expr {
	entry := p.depth
	defer func() { p.depth = entry }()
	p.deeper()
	x := p.prefix()
	for {
		bp := p.infix()
		if bp == 0 || bp <= minBP {
			return x
		}
		op := p.tok
		p.deeper() // each operator of a chain adds a level to the tree
		p.advance()
		switch {
		case op.is("IS"):
			e := &isExpr{pos: op.pos, x: x}
			if p.tok.is("NOT") {
				e.not = true
				p.advance()
			}
			switch {
			case p.tok.is("NULL"):
			case p.tok.is("UNDEFINED"):
				e.undefined = true
			default:
				p.failExpected("NULL or UNDEFINED")
			}
			p.advance()
			x = e
		case op.is("NOT"): // NOT IN
			p.advance()
			in := &binaryExpr{pos: op.pos, op: tIdent, word: "IN", x: x, y: p.expr(bp)}
			x = &unaryExpr{pos: op.pos, op: "NOT", x: in}
		case op.kind == tIdent:
			x = &binaryExpr{pos: op.pos, op: tIdent, word: strings.ToUpper(op.text), x: x, y: p.expr(bp)}
		default:
			x = &binaryExpr{pos: op.pos, op: op.kind, x: x, y: p.expr(bp)}
		}
	}
}

// deeper adds a level to the tree being built.
func (p *parser) deeper() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok.pos, "expression nested too deeply")
	}
}

// prefix parses a prefix operator or a primary with its postfix chain.
func (p *parser) prefix() expr {
	t := p.tok
	switch {
	case t.is("NOT"):
		p.advance()
		return &unaryExpr{pos: t.pos, op: "NOT", x: p.expr(bpNot - 1)}
	case t.kind == tMinus || t.kind == tPlus:
		p.advance()
		if t.kind == tMinus && p.tok.kind == tNumber {
			// Fold the sign into the literal, so that the smallest Int
			// is representable.
			n := p.tok
			p.advance()
			return p.postfix(&litExpr{pos: t.pos, kind: tNumber, text: "-" + n.text})
		}
		return &unaryExpr{pos: t.pos, op: t.text, x: p.expr(bpUnary)}
	}
	return p.postfix(p.primary())
}

// postfix parses .field and [index] after x. Its caller restores depth.
func (p *parser) postfix(x expr) expr {
	for {
		if p.tok.kind == tDot || p.tok.kind == tLBrack {
			p.deeper()
		}
		switch p.tok.kind {
		case tDot:
			pos := p.tok.pos
			p.advance()
			name := p.expect(tIdent)
			x = &fieldExpr{pos: pos, x: x, name: name.text}
		case tLBrack:
			pos := p.tok.pos
			p.advance()
			i := p.expr(0)
			p.expect(tRBrack)
			x = &indexExpr{pos: pos, x: x, i: i}
		default:
			return x
		}
	}
}

func (p *parser) primary() expr {
	t := p.tok
	switch t.kind {
	case tNumber:
		p.advance()
		return &litExpr{pos: t.pos, kind: tNumber, text: t.text}
	case tString, tDString:
		p.advance()
		return &litExpr{pos: t.pos, kind: tString, str: t.val}
	case tStar:
		p.advance()
		return &starExpr{pos: t.pos}
	case tLParen:
		p.advance()
		if p.tok.is("SELECT") {
			s := p.selectStmt(false)
			p.expect(tRParen)
			return &subSelect{pos: t.pos, sel: s}
		}
		x := p.expr(0)
		p.expect(tRParen)
		return x
	case tLBrack:
		return p.arrayLit()
	case tLBrace:
		return p.objectLit()
	case tIdent:
		return p.word()
	}
	p.failExpected("expression")
	return nil
}

// word parses a primary that starts with a word: a literal keyword, CASE, a
// function call or a field name.
func (p *parser) word() expr {
	t := p.tok
	u := strings.ToUpper(t.text)
	switch u {
	case "TRUE", "FALSE", "NULL":
		p.advance()
		return &litExpr{pos: t.pos, kind: tIdent, text: strings.ToLower(u)}
	case "CASE":
		return p.caseExpr()
	}
	if p.peek().kind == tLParen {
		p.advance()
		p.advance()
		name := strings.ToLower(t.text)
		if name == "cast" {
			return p.cast(t.pos)
		}
		c := &callExpr{pos: t.pos, name: name}
		if p.tok.kind != tRParen {
			for {
				c.args = append(c.args, p.expr(0))
				if p.tok.kind != tComma {
					break
				}
				p.advance()
			}
		}
		p.expect(tRParen)
		return c
	}
	if reserved[u] {
		p.failExpected("expression")
	}
	p.advance()
	return &identExpr{pos: t.pos, name: t.text}
}

// cast parses the rest of cast(x AS type) after "cast(".
func (p *parser) cast(pos int) expr {
	c := &castExpr{pos: pos, x: p.expr(0)}
	p.expectKW("AS")
	c.typPos = p.tok.pos
	c.typ = p.expect(tIdent).text
	p.expect(tRParen)
	return c
}

func (p *parser) caseExpr() expr {
	c := &caseExpr{pos: p.tok.pos}
	p.advance()
	if !p.tok.is("WHEN") {
		c.operand = p.expr(0)
	}
	for p.tok.is("WHEN") {
		p.advance()
		var w whenClause
		w.cond = p.expr(0)
		p.expectKW("THEN")
		w.result = p.expr(0)
		c.whens = append(c.whens, w)
	}
	if len(c.whens) == 0 {
		p.failExpected("WHEN")
	}
	if p.tok.is("ELSE") {
		p.advance()
		c.els = p.expr(0)
	}
	p.expectKW("END")
	return c
}

func (p *parser) arrayLit() expr {
	a := &arrayExpr{pos: p.tok.pos}
	p.advance()
	if p.tok.kind != tRBrack {
		for {
			a.elems = append(a.elems, p.expr(0))
			if p.tok.kind != tComma {
				break
			}
			p.advance()
		}
	}
	p.expect(tRBrack)
	return a
}

func (p *parser) objectLit() expr {
	o := &objectExpr{pos: p.tok.pos}
	p.advance()
	if p.tok.kind != tRBrace {
		for {
			if p.tok.kind != tString && p.tok.kind != tDString {
				p.failExpected("object key in quotes")
			}
			o.keys = append(o.keys, p.tok.val)
			p.advance()
			p.expect(tColon)
			o.vals = append(o.vals, p.expr(0))
			if p.tok.kind != tComma {
				break
			}
			p.advance()
		}
	}
	p.expect(tRBrace)
	return o
}
