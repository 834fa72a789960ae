package fleetquery

// Doc is one indexed record. Values returns the values of a field (nil
// when the record does not have it); a multi-valued field
// (thingGroupNames, parentGroupNames) matches when any value does.
type Doc interface {
	Values(field string) []string
}

// Match reports whether d satisfies the query.
func (q *Query) Match(d Doc) bool { return q.Root.match(d) }

func (n *Node) match(d Doc) bool {
	switch {
	case n.Term != nil:
		return n.Term.match(d)
	case n.Not != nil:
		return !n.Not.match(d)
	case n.And != nil:
		for _, c := range n.And {
			if !c.match(d) {
				return false
			}
		}
		return true
	}
	for _, c := range n.Or {
		if c.match(d) {
			return true
		}
	}
	return false
}

func (t *Term) match(d Doc) bool {
	for _, v := range d.Values(t.Field) {
		if t.matchValue(v) {
			return true
		}
	}
	return false
}

func (t *Term) matchValue(v string) bool {
	switch t.Op {
	case OpEq:
		if t.wild {
			return wildcard(t.Value, v)
		}
		return v == t.Value
	case OpRange:
		if t.numeric {
			n, ok := number(v)
			return ok && (t.Low == "*" || n >= t.lo) && (t.High == "*" || n <= t.hi)
		}
		return (t.Low == "*" || v >= t.Low) && (t.High == "*" || v <= t.High)
	}
	n, ok := number(v)
	if !ok {
		return false
	}
	switch t.Op {
	case OpGT:
		return n > t.num
	case OpGE:
		return n >= t.num
	case OpLT:
		return n < t.num
	}
	return n <= t.num
}

// wildcard matches s against a pattern where * is any run of bytes and ?
// one byte, in O(len(p)*len(s)) without backtracking blow-up.
func wildcard(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// MapDoc is a Doc over a map, for tests and simple callers.
type MapDoc map[string][]string

// Values implements Doc.
func (m MapDoc) Values(field string) []string { return m[field] }
