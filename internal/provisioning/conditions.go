package provisioning

// parseConditions checks the Conditions section: condition name → a
// condition expression built from Fn::Equals, Fn::And, Fn::Or, Fn::Not and
// {"Condition": name}. A condition that refers back to itself is an error.
func (t *Template) parseConditions(n *node) error {
	const path = "Conditions"
	if n.kind != kObject {
		return newErr(ErrInvalid, path, "must be an object, got %s", n.kind)
	}
	for i, name := range n.keys {
		t.conditions[name] = &n.vals[i]
	}
	for i, name := range n.keys {
		if err := t.check(&n.vals[i], join(path, name), ctxCond); err != nil {
			return err
		}
	}
	// Reject cycles: depth-first search with three colours.
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case active:
			return newErr(ErrInvalid, join(path, name), "condition refers to itself through Condition")
		case done:
			return nil
		}
		state[name] = active
		for _, dep := range condRefs(t.conditions[name], nil) {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, name := range n.keys {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// condRefs appends the names of the conditions n refers to with
// {"Condition": name}.
func condRefs(n *node, out []string) []string {
	if n.kind == kObject && len(n.keys) == 1 && n.keys[0] == "Condition" && n.vals[0].kind == kString {
		return append(out, n.vals[0].text)
	}
	for i := range n.elems {
		out = condRefs(&n.elems[i], out)
	}
	for i := range n.vals {
		out = condRefs(&n.vals[i], out)
	}
	return out
}

// condition returns the value of a named condition, evaluating it once.
func (x *exec) condition(name string) (bool, error) {
	if v, ok := x.conds[name]; ok {
		return v, nil
	}
	v, err := x.evalCond(x.t.conditions[name], join("Conditions", name))
	if err != nil {
		return false, err
	}
	x.conds[name] = v
	return v, nil
}

// evalCond evaluates a condition expression that Parse has checked.
func (x *exec) evalCond(n *node, path string) (bool, error) {
	fn, arg := n.keys[0], &n.vals[0]
	p := join(path, fn)
	switch fn {
	case "Condition":
		return x.condition(arg.text)
	case "Fn::Not":
		v, err := x.evalCond(&arg.elems[0], index(p, 0))
		return !v, err
	case "Fn::And", "Fn::Or":
		want := fn == "Fn::Or" // the value that decides the result
		for i := range arg.elems {
			v, err := x.evalCond(&arg.elems[i], index(p, i))
			if err != nil {
				return false, err
			}
			if v == want {
				return want, nil
			}
		}
		return !want, nil
	}
	// Fn::Equals: compare the operands as strings.
	a, err := x.evalString(&arg.elems[0], index(p, 0))
	if err != nil {
		return false, err
	}
	b, err := x.evalString(&arg.elems[1], index(p, 1))
	if err != nil {
		return false, err
	}
	return a == b, nil
}
