package provisioning

import (
	"strconv"
	"strings"
)

// noValue is the pseudo parameter that, returned by Ref (typically from a
// Fn::If branch), removes the property or list element that holds it.
const noValue = "AWS::NoValue"

// context says where an expression stands, which decides the functions it
// may use: Fn::If only in values, the condition functions only in the
// Conditions section.
type context uint8

const (
	ctxValue   context = iota // Resources properties, DeviceConfiguration
	ctxOperand                // an operand of Fn::Equals
	ctxCond                   // a condition expression
)

// isIntrinsic reports whether n is an intrinsic function call: an object
// whose only key is "Ref", "Condition" or starts with "Fn::".
func isIntrinsic(n *node) bool {
	return n.kind == kObject && len(n.keys) == 1 && isFuncName(n.keys[0])
}

func isFuncName(k string) bool {
	return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
}

// check validates the expression n statically (see Parse).
func (t *Template) check(n *node, path string, ctx context) error {
	switch n.kind {
	case kArray:
		if ctx == ctxCond {
			return newErr(ErrInvalid, path, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
		}
		for i := range n.elems {
			if err := t.check(&n.elems[i], index(path, i), ctx); err != nil {
				return err
			}
		}
		return nil
	case kObject:
	default:
		if ctx == ctxCond {
			return newErr(ErrInvalid, path, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
		}
		return nil
	}
	if !isIntrinsic(n) {
		for _, k := range n.keys {
			if isFuncName(k) && k != "Condition" {
				return newErr(ErrInvalid, join(path, k), "an intrinsic function must be the only key of its object")
			}
		}
		if ctx == ctxCond {
			return newErr(ErrInvalid, path, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
		}
		for i, k := range n.keys {
			if err := t.check(&n.vals[i], join(path, k), ctx); err != nil {
				return err
			}
		}
		return nil
	}
	fn, arg := n.keys[0], &n.vals[0]
	p := join(path, fn)
	isCond := fn == "Fn::Equals" || fn == "Fn::And" || fn == "Fn::Or" || fn == "Fn::Not" || fn == "Condition"
	if ctx == ctxCond && !isCond {
		return newErr(ErrInvalid, path, "%s is not a condition; use Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition", fn)
	}
	if ctx != ctxCond && isCond {
		if fn == "Condition" {
			return newErr(ErrInvalid, path, "an intrinsic function must be the only key of its object")
		}
		return newErr(ErrInvalid, p, "condition functions may only be used in the Conditions section")
	}
	switch fn {
	case "Ref":
		return t.checkRef(arg, p, ctx)
	case "Fn::Join", "Fn::Split":
		args, err := argList(arg, p, 2, 2)
		if err != nil {
			return err
		}
		if args[0].kind != kString || (fn == "Fn::Split" && args[0].text == "") {
			return newErr(ErrInvalid, index(p, 0), "the delimiter must be a literal non-empty string")
		}
		if fn == "Fn::Join" {
			if args[1].kind != kArray && !isIntrinsic(&args[1]) {
				return newErr(ErrInvalid, index(p, 1), "must be a list or a function that returns one")
			}
		}
		return t.check(&args[1], index(p, 1), valueCtx(ctx))
	case "Fn::Select":
		args, err := argList(arg, p, 2, 2)
		if err != nil {
			return err
		}
		if args[1].kind != kArray && !isIntrinsic(&args[1]) {
			return newErr(ErrInvalid, index(p, 1), "must be a list or a function that returns one")
		}
		return t.checkAll(args, p, valueCtx(ctx))
	case "Fn::FindInMap":
		args, err := argList(arg, p, 3, 3)
		if err != nil {
			return err
		}
		if args[0].kind == kString {
			if _, ok := t.mappings[args[0].text]; !ok {
				return newErr(ErrInvalid, index(p, 0), "mapping %q is not declared in Mappings", args[0].text)
			}
		}
		return t.checkAll(args, p, valueCtx(ctx))
	case "Fn::Sub":
		return t.checkSub(arg, p, ctx)
	case "Fn::If":
		if ctx != ctxValue {
			return newErr(ErrInvalid, p, "Fn::If may only be used in Resources and DeviceConfiguration")
		}
		args, err := argList(arg, p, 3, 3)
		if err != nil {
			return err
		}
		if err := t.checkCondName(&args[0], index(p, 0)); err != nil {
			return err
		}
		return t.checkAll(args[1:], p, ctx, 1)
	case "Fn::Equals":
		args, err := argList(arg, p, 2, 2)
		if err != nil {
			return err
		}
		return t.checkAll(args, p, ctxOperand)
	case "Fn::And", "Fn::Or":
		args, err := argList(arg, p, 2, 10)
		if err != nil {
			return err
		}
		return t.checkAll(args, p, ctxCond)
	case "Fn::Not":
		args, err := argList(arg, p, 1, 1)
		if err != nil {
			return err
		}
		return t.check(&args[0], index(p, 0), ctxCond)
	case "Condition":
		return t.checkCondName(arg, p)
	}
	return newErr(ErrInvalid, p, "unsupported intrinsic function; supported: Ref, Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::FindInMap, Fn::If, and in Conditions Fn::Equals, Fn::And, Fn::Or, Fn::Not")
}

// valueCtx is the context of a function's arguments: inside Fn::Equals
// they stay operands (no Fn::If), elsewhere they are values.
func valueCtx(ctx context) context {
	if ctx == ctxOperand {
		return ctxOperand
	}
	return ctxValue
}

func (t *Template) checkAll(args []node, path string, ctx context, offset ...int) error {
	off := 0
	if len(offset) > 0 {
		off = offset[0]
	}
	for i := range args {
		if err := t.check(&args[i], index(path, i+off), ctx); err != nil {
			return err
		}
	}
	return nil
}

// argList checks that arg is a list of min to max elements.
func argList(arg *node, path string, min, max int) ([]node, error) {
	if arg.kind != kArray {
		return nil, newErr(ErrInvalid, path, "arguments must be a list, got %s", arg.kind)
	}
	if n := len(arg.elems); n < min || n > max {
		if min == max {
			return nil, newErr(ErrInvalid, path, "takes %d arguments, got %d", min, n)
		}
		return nil, newErr(ErrInvalid, path, "takes %d to %d arguments, got %d", min, max, n)
	}
	return arg.elems, nil
}

func (t *Template) checkRef(arg *node, path string, ctx context) error {
	if arg.kind != kString {
		return newErr(ErrInvalid, path, "must name a parameter, got %s", arg.kind)
	}
	name := arg.text
	switch {
	case t.hasParam(name):
		return nil
	case name == noValue:
		if ctx != ctxValue {
			return newErr(ErrInvalid, path, "AWS::NoValue may only be used in Resources and DeviceConfiguration")
		}
		return nil
	}
	for _, r := range t.resources {
		if r.name == name {
			return newErr(ErrInvalid, path, "%q is a resource; Ref of a resource is not supported, only of a parameter", name)
		}
	}
	return newErr(ErrInvalid, path, "parameter %q is not declared in Parameters", name)
}

// hasParam reports whether name is a declared parameter or an
// AWS::IoT::Certificate::* parameter.
func (t *Template) hasParam(name string) bool {
	_, ok := t.paramIndex[name]
	return ok || isCertificateParameter(name)
}

func (t *Template) checkCondName(arg *node, path string) error {
	if arg.kind != kString {
		return newErr(ErrInvalid, path, "must name a condition, got %s", arg.kind)
	}
	if _, ok := t.conditions[arg.text]; !ok {
		return newErr(ErrInvalid, path, "condition %q is not declared in Conditions", arg.text)
	}
	return nil
}

func (t *Template) checkSub(arg *node, path string, ctx context) error {
	format, vars := arg, (*node)(nil)
	if arg.kind == kArray {
		args, err := argList(arg, path, 2, 2)
		if err != nil {
			return err
		}
		format, vars = &args[0], &args[1]
		if vars.kind != kObject || isIntrinsic(vars) {
			return newErr(ErrInvalid, index(path, 1), "must be an object of variable names to values")
		}
	}
	if format.kind != kString {
		return newErr(ErrInvalid, path, "must be a string or a list of a string and an object of variables")
	}
	names, err := subNames(format.text)
	if err != nil {
		return newErr(ErrInvalid, path, "%s", err.Msg)
	}
	for _, name := range names {
		if vars != nil {
			if _, ok := vars.member(name); ok {
				continue
			}
		}
		if !t.hasParam(name) {
			return newErr(ErrInvalid, path, "${%s} is neither a variable of this Fn::Sub nor a declared parameter", name)
		}
	}
	if vars != nil {
		for i, k := range vars.keys {
			if err := t.check(&vars.vals[i], join(index(path, 1), k), valueCtx(ctx)); err != nil {
				return err
			}
		}
	}
	return nil
}

// subNames returns the variable names a Fn::Sub string refers to. "${!x}"
// is the literal text "${x}".
func subNames(s string) ([]string, *Error) {
	var names []string
	err := scanSub(s, func(lit string) {}, func(name string) { names = append(names, name) })
	return names, err
}

// scanSub splits a Fn::Sub string into literal text and ${name} variables.
func scanSub(s string, lit, variable func(string)) *Error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit(s)
			return nil
		}
		lit(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return newErr(ErrInvalid, "", "unterminated ${ in Fn::Sub string")
		}
		name := s[i+2 : i+end]
		s = s[i+end+1:]
		if rest, ok := strings.CutPrefix(name, "!"); ok {
			lit("${" + rest + "}")
			continue
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return newErr(ErrInvalid, "", "empty ${} in Fn::Sub string")
		}
		variable(name)
	}
}

// exec is the state of one Execute call.
type exec struct {
	t      *Template
	params map[string]string
	// conds memoizes condition values, so a condition used many times is
	// evaluated once.
	conds map[string]bool
}

// eval resolves the intrinsic functions in n. present is false when the
// value is AWS::NoValue and its holder should be dropped.
func (x *exec) eval(n *node, path string) (v node, present bool, err error) {
	switch n.kind {
	case kArray:
		out := node{kind: kArray}
		for i := range n.elems {
			e, ok, err := x.eval(&n.elems[i], index(path, i))
			if err != nil {
				return node{}, false, err
			}
			if ok {
				out.elems = append(out.elems, e)
			}
		}
		return out, true, nil
	case kObject:
	default:
		return *n, true, nil
	}
	if !isIntrinsic(n) {
		out := node{kind: kObject}
		for i, k := range n.keys {
			e, ok, err := x.eval(&n.vals[i], join(path, k))
			if err != nil {
				return node{}, false, err
			}
			if ok {
				out.keys = append(out.keys, k)
				out.vals = append(out.vals, e)
			}
		}
		return out, true, nil
	}
	fn, arg := n.keys[0], &n.vals[0]
	p := join(path, fn)
	switch fn {
	case "Ref":
		if arg.text == noValue {
			return node{}, false, nil
		}
		s, err := x.param(arg.text, p)
		return str(s), true, err
	case "Fn::Join":
		list, err := x.evalList(&arg.elems[1], index(p, 1))
		if err != nil {
			return node{}, false, err
		}
		parts := make([]string, len(list.elems))
		for i := range list.elems {
			if parts[i], err = scalar(&list.elems[i], index(p, 1)); err != nil {
				return node{}, false, err
			}
		}
		return str(strings.Join(parts, arg.elems[0].text)), true, nil
	case "Fn::Split":
		s, err := x.evalString(&arg.elems[1], index(p, 1))
		if err != nil {
			return node{}, false, err
		}
		out := node{kind: kArray}
		for _, part := range strings.Split(s, arg.elems[0].text) {
			out.elems = append(out.elems, str(part))
		}
		return out, true, nil
	case "Fn::Select":
		return x.evalSelect(arg, p)
	case "Fn::FindInMap":
		return x.evalFindInMap(arg, p)
	case "Fn::Sub":
		return x.evalSub(arg, p)
	case "Fn::If":
		c, err := x.condition(arg.elems[0].text)
		if err != nil {
			return node{}, false, err
		}
		if c {
			return x.eval(&arg.elems[1], index(p, 1))
		}
		return x.eval(&arg.elems[2], index(p, 2))
	}
	// Parse admits no other function in a value.
	return node{}, false, newErr(ErrEvaluation, p, "unsupported intrinsic function")
}

func str(s string) node { return node{kind: kString, text: s} }

// scalar returns the text of a string, number or boolean value.
func scalar(n *node, path string) (string, error) {
	switch n.kind {
	case kString, kNumber, kBool:
		return n.text, nil
	}
	return "", newErr(ErrEvaluation, path, "must resolve to a string, got %s", n.kind)
}

// param returns the value of a parameter: the one given to Execute, else
// its Default.
func (x *exec) param(name, path string) (string, error) {
	if v, ok := x.params[name]; ok {
		return v, nil
	}
	return "", newErr(ErrMissingParameter, path, "no value for parameter %q", name)
}

func (x *exec) evalString(n *node, path string) (string, error) {
	v, ok, err := x.eval(n, path)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", newErr(ErrEvaluation, path, "AWS::NoValue cannot be used here")
	}
	return scalar(&v, path)
}

func (x *exec) evalList(n *node, path string) (node, error) {
	v, ok, err := x.eval(n, path)
	if err != nil {
		return node{}, err
	}
	if !ok || v.kind != kArray {
		return node{}, newErr(ErrEvaluation, path, "must resolve to a list")
	}
	return v, nil
}

func (x *exec) evalSelect(arg *node, p string) (node, bool, error) {
	is, err := x.evalString(&arg.elems[0], index(p, 0))
	if err != nil {
		return node{}, false, err
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return node{}, false, newErr(ErrEvaluation, index(p, 0), "index %q is not an integer", is)
	}
	list, err := x.evalList(&arg.elems[1], index(p, 1))
	if err != nil {
		return node{}, false, err
	}
	if i < 0 || i >= len(list.elems) {
		return node{}, false, newErr(ErrEvaluation, index(p, 0), "index %d is out of range for a list of %d", i, len(list.elems))
	}
	e := list.elems[i]
	if e.kind == kNull {
		return node{}, false, newErr(ErrEvaluation, p, "selected element %d is null", i)
	}
	return e, true, nil
}

func (x *exec) evalFindInMap(arg *node, p string) (node, bool, error) {
	var keys [3]string
	for i := range keys {
		s, err := x.evalString(&arg.elems[i], index(p, i))
		if err != nil {
			return node{}, false, err
		}
		keys[i] = s
	}
	m, ok := x.t.mappings[keys[0]]
	if !ok {
		return node{}, false, newErr(ErrEvaluation, index(p, 0), "mapping %q is not declared in Mappings", keys[0])
	}
	top, ok := m.member(keys[1])
	if !ok {
		return node{}, false, newErr(ErrEvaluation, index(p, 1), "mapping %q has no key %q", keys[0], keys[1])
	}
	v, ok := top.member(keys[2])
	if !ok {
		return node{}, false, newErr(ErrEvaluation, index(p, 2), "mapping %q key %q has no key %q", keys[0], keys[1], keys[2])
	}
	return *v, true, nil
}

func (x *exec) evalSub(arg *node, p string) (node, bool, error) {
	format, vars := arg, (*node)(nil)
	if arg.kind == kArray {
		format, vars = &arg.elems[0], &arg.elems[1]
	}
	var b strings.Builder
	var firstErr error
	x.scanSubOK(format.text, &b, func(name string) {
		if firstErr != nil {
			return
		}
		if vars != nil {
			if v, ok := vars.member(name); ok {
				s, err := x.evalString(v, join(index(p, 1), name))
				firstErr = err
				b.WriteString(s)
				return
			}
		}
		s, err := x.param(name, p)
		firstErr = err
		b.WriteString(s)
	})
	if firstErr != nil {
		return node{}, false, firstErr
	}
	return str(b.String()), true, nil
}

// scanSubOK runs scanSub on a string Parse has already accepted.
func (x *exec) scanSubOK(s string, b *strings.Builder, variable func(string)) {
	_ = scanSub(s, func(lit string) { b.WriteString(lit) }, variable)
}
