package iotsql

import "strings"

// funcDef is a built-in function.
type funcDef struct {
	name     string
	min, max int  // argument counts; max -1: any number
	v2       bool // introduced by SQL 2016-03-23
	pure     bool // depends on its arguments only: folded when they are constant

	// impl computes the result. args are the evaluated arguments, valid
	// only during the call. Invalid arguments give Undefined, as AWS
	// documents ("functions called with invalid arguments return
	// Undefined").
	impl func(c *evalCtx, n *callNode, args []value) value

	// bind, when set, checks or prepares a call at compile time (a
	// constant regular expression, a literal encoding scheme). It returns
	// an error message, or "".
	bind func(n *callNode) string
}

// callNode is a bound function call.
type callNode struct {
	fn     *funcDef
	args   []node
	state  any     // prepared by bind
	consts []value // the arguments, when all are constant (topic(2))
}

func (n *callNode) eval(c *evalCtx) value {
	if n.consts != nil {
		return n.fn.impl(c, n, n.consts)
	}
	base := len(c.stack)
	for _, a := range n.args {
		v := a.eval(c)
		c.stack = append(c.stack, v)
	}
	v := n.fn.impl(c, n, c.stack[base:len(c.stack):len(c.stack)])
	c.stack = c.stack[:base]
	return v
}

// constArg returns argument i when it is a constant.
func (n *callNode) constArg(i int) (value, bool) {
	if i >= len(n.args) {
		return undef, false
	}
	k, ok := n.args[i].(constNode)
	return k.v, ok
}

// funcs holds every supported function by lower-case name (function names
// are not case-sensitive: AWS's examples write Round, Trim and Nanvl).
var funcs = map[string]*funcDef{}

// register adds functions to funcs; each file of functions calls it from
// init.
func register(fs ...*funcDef) {
	for _, f := range fs {
		key := strings.ToLower(f.name)
		if _, dup := funcs[key]; dup {
			panic("iotsql: function registered twice: " + f.name)
		}
		funcs[key] = f
	}
}

// unsupported are AWS IoT SQL functions that call other AWS services, which
// moat does not have; using one is a compile error that says so.
var unsupported = map[string]string{
	"aws_lambda":              "it calls AWS Lambda",
	"get_dynamodb":            "it reads Amazon DynamoDB",
	"get_secret":              "it reads AWS Secrets Manager",
	"machinelearning_predict": "it calls Amazon Machine Learning",
	"get_registry_data":       "it is not implemented yet",
	"get_mqtt_property":       "MQTT 5 properties are not passed to rules yet",
	"get_user_properties":     "MQTT 5 user properties are not passed to rules yet",
	"get_or_default":          "it is not implemented yet",
}

// fn1 adapts a one-argument function of a value.
func fn1(f func(c *evalCtx, v value) value) func(*evalCtx, *callNode, []value) value {
	return func(c *evalCtx, _ *callNode, a []value) value { return f(c, a[0]) }
}

// fn2 adapts a two-argument function.
func fn2(f func(c *evalCtx, a, b value) value) func(*evalCtx, *callNode, []value) value {
	return func(c *evalCtx, _ *callNode, a []value) value { return f(c, a[0], a[1]) }
}
