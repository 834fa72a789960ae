package iotsql

// node is a compiled expression. eval returns its value for the current
// evaluation; values are passed by value and nothing escapes, so a tree of
// nodes evaluates without allocating unless a node builds an array, an
// object or a string.
type node interface {
	eval(c *evalCtx) value
}

type (
	constNode struct{ v value }
	starNode  struct{}
	fieldNode struct{ name string }
	pathNode  struct {
		x    node
		name string
	}
	indexNode struct{ x, i node }
	notNode   struct{ x node }
	negNode   struct{ x node }
	plusNode  struct{ x node }
	andNode   struct{ x, y node }
	orNode    struct{ x, y node }
	inNode    struct{ x, y node }
	eqNode    struct {
		x, y node
		ne   bool
	}
	cmpNode struct {
		op   tokKind
		x, y node
	}
	arithNode struct {
		op   tokKind
		x, y node
	}
	isNode struct {
		x         node
		not       bool
		undefined bool
	}
	castNode struct {
		x   node
		to  kind
		dbl bool
	}
	caseNode struct {
		operand        node // nil: searched CASE
		conds, results []node
		els            node
	}
	objectNode struct {
		keys []string
		vals []node
	}
	arrayNode     struct{ elems []node }
	subSelectNode struct{ sel *selectProg }
)

func (n constNode) eval(*evalCtx) value    { return n.v }
func (starNode) eval(c *evalCtx) value     { return c.doc() }
func (n *fieldNode) eval(c *evalCtx) value { return c.field(n.name) }

func (n *pathNode) eval(c *evalCtx) value { return c.member(n.x.eval(c), n.name) }

// eval of x[i] is get(x, i).
func (n *indexNode) eval(c *evalCtx) value { return c.get(n.x.eval(c), n.i.eval(c)) }

func (n *notNode) eval(c *evalCtx) value {
	b, ok := toBool(n.x.eval(c))
	if !ok {
		return undef
	}
	return boolV(!b)
}

func (n *negNode) eval(c *evalCtx) value {
	return c.arith(tMinus, intV(0), n.x.eval(c))
}

func (n *plusNode) eval(c *evalCtx) value {
	v, ok := c.toNum(n.x.eval(c))
	if !ok {
		return undef
	}
	return v
}

// AND and OR need Boolean (or "true"/"false" string) operands; any other
// operand makes the result Undefined, as AWS's operator tables say.
func (n *andNode) eval(c *evalCtx) value {
	a, ok := toBool(n.x.eval(c))
	if !ok {
		return undef
	}
	b, ok := toBool(n.y.eval(c))
	if !ok {
		return undef
	}
	return boolV(a && b)
}

func (n *orNode) eval(c *evalCtx) value {
	a, ok := toBool(n.x.eval(c))
	if !ok {
		return undef
	}
	b, ok := toBool(n.y.eval(c))
	if !ok {
		return undef
	}
	return boolV(a || b)
}

// x IN arr: true when an element of the array equals x.
func (n *inNode) eval(c *evalCtx) value {
	x, arr := n.x.eval(c), n.y.eval(c)
	if x.k == kUndefined || arr.k != kArray {
		return undef
	}
	found := false
	c.elements(arr, func(e value) bool {
		found = c.equal(x, e)
		return !found
	})
	return boolV(found)
}

func (n *eqNode) eval(c *evalCtx) value {
	x, y := n.x.eval(c), n.y.eval(c)
	if x.k == kUndefined || y.k == kUndefined {
		return undef
	}
	return boolV(c.equal(x, y) != n.ne)
}

func (n *cmpNode) eval(c *evalCtx) value { return c.compare(n.op, n.x.eval(c), n.y.eval(c)) }

func (n *arithNode) eval(c *evalCtx) value { return c.arith(n.op, n.x.eval(c), n.y.eval(c)) }

// IS [NOT] NULL / UNDEFINED is always a Boolean.
func (n *isNode) eval(c *evalCtx) value {
	v := n.x.eval(c)
	is := v.k == kNull
	if n.undefined {
		is = v.k == kUndefined
	}
	return boolV(is != n.not)
}

func (n *castNode) eval(c *evalCtx) value { return c.castTo(n.x.eval(c), n.to, n.dbl) }

// CASE v WHEN t THEN r ...: the first t equal to v; Undefined when v is.
// CASE WHEN cond THEN r ...: the first true condition.
func (n *caseNode) eval(c *evalCtx) value {
	var v value
	if n.operand != nil {
		v = n.operand.eval(c)
		if v.k == kUndefined {
			return undef
		}
	}
	for i, cond := range n.conds {
		t := cond.eval(c)
		var match bool
		if n.operand != nil {
			match = t.k != kUndefined && c.equal(v, t)
		} else {
			match = t.isTrue()
		}
		if match {
			return n.results[i].eval(c)
		}
	}
	if n.els != nil {
		return n.els.eval(c)
	}
	return undef
}

// set adds or replaces a key of an object literal at compile time.
func (n *objectNode) set(k string, x node) {
	for i, have := range n.keys {
		if have == k {
			n.vals[i] = x
			return
		}
	}
	n.keys = append(n.keys, k)
	n.vals = append(n.vals, x)
}

func (n *objectNode) eval(c *evalCtx) value {
	e := &ext{keys: n.keys, vals: make([]value, len(n.vals))}
	for i, x := range n.vals {
		e.vals[i] = x.eval(c)
	}
	return value{k: kObject, x: e}
}

// An array literal leaves out elements that are Undefined.
func (n *arrayNode) eval(c *evalCtx) value {
	vs := make([]value, 0, len(n.elems))
	for _, x := range n.elems {
		if v := x.eval(c); storable(v) {
			vs = append(vs, v)
		}
	}
	return arrV(vs)
}

func (n *subSelectNode) eval(c *evalCtx) value { return n.sel.evalNested(c) }
