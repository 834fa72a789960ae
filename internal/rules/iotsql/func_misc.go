package iotsql

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Functions about the message, type tests, collections and encodings.

func init() {
	is := func(name string, v2 bool, test func(v value) bool) *funcDef {
		return &funcDef{name: name, min: 1, max: 1, v2: v2, pure: true, impl: fn1(func(_ *evalCtx, v value) value {
			return boolV(test(v))
		})}
	}
	register(
		&funcDef{name: "topic", min: 0, max: 1, impl: fnTopic},
		&funcDef{name: "clientid", impl: func(c *evalCtx, _ *callNode, _ []value) value {
			if c.in == nil || c.in.ClientID == "" {
				return strV("n/a") // not published over MQTT
			}
			return strV(c.in.ClientID)
		}},
		&funcDef{name: "principal", impl: inputString(func(in *Input) string { return in.Principal })},
		&funcDef{name: "traceid", impl: inputString(func(in *Input) string { return in.TraceID })},
		&funcDef{name: "accountid", impl: inputString(func(in *Input) string { return in.AccountID })},
		&funcDef{name: "timestamp", impl: func(c *evalCtx, _ *callNode, _ []value) value {
			if c.in != nil && c.in.Timestamp != 0 {
				return intV(c.in.Timestamp)
			}
			return intV(time.Now().UnixMilli())
		}},
		&funcDef{name: "newuuid", impl: func(c *evalCtx, _ *callNode, _ []value) value {
			start := len(c.arena)
			c.arena = appendUUID(c.arena)
			return strV(b2s(c.arena[start:]))
		}},
		&funcDef{name: "sql_version", pure: true, impl: func(c *evalCtx, _ *callNode, _ []value) value {
			return strV(c.version)
		}},
		is("isNull", false, func(v value) bool { return v.k == kNull }),
		is("isUndefined", true, func(v value) bool { return v.k == kUndefined }),
		is("isString", false, func(v value) bool { return v.k == kString }),
		is("isNumber", false, func(v value) bool { return v.isNum() }),
		is("isBoolean", false, func(v value) bool { return v.k == kBool }),
		is("isObject", false, func(v value) bool { return v.k == kObject }),
		is("isArray", false, func(v value) bool { return v.k == kArray }),
		&funcDef{name: "get", min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value { return c.get(a, b) })},
		&funcDef{name: "encode", min: 2, max: 2, v2: true, pure: true, bind: bindScheme, impl: fnEncode},
		&funcDef{name: "decode", min: 2, max: 2, v2: true, pure: true, bind: bindScheme, impl: fnDecode},
		&funcDef{name: "transform", min: 3, max: 3, v2: true, pure: true, impl: fnTransform},
		&funcDef{name: "get_thing_shadow", min: 2, max: 3, v2: true, impl: fnGetThingShadow},
	)
}

// inputString returns a function of a field of the input, Undefined when
// the field is empty.
func inputString(f func(in *Input) string) func(*evalCtx, *callNode, []value) value {
	return func(c *evalCtx, _ *callNode, _ []value) value {
		if c.in == nil {
			return undef
		}
		if s := f(c.in); s != "" {
			return strV(s)
		}
		return undef
	}
}

// fnTopic: topic() is the whole topic, topic(n) its n-th level from 1;
// Undefined out of range.
func fnTopic(c *evalCtx, _ *callNode, a []value) value {
	if c.in == nil {
		return undef
	}
	t := c.in.Topic
	if len(a) == 0 {
		return strV(t)
	}
	n, ok := c.toInt(a[0])
	if !ok || n < 1 {
		return undef
	}
	for ; n > 1; n-- {
		i := strings.IndexByte(t, '/')
		if i < 0 {
			return undef
		}
		t = t[i+1:]
	}
	if i := strings.IndexByte(t, '/'); i >= 0 {
		t = t[:i]
	}
	return strV(t)
}

// appendUUID appends a random (version 4) UUID.
func appendUUID(dst []byte) []byte {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return append(dst, s[:]...)
}

// schemeState records what bindScheme learnt about an encode/decode call.
type schemeState struct{ star bool } // encode(*, ...): the payload's bytes

// bindScheme requires the scheme to be the literal 'base64', the only one
// AWS supports besides 'proto' (which needs a descriptor in Amazon S3).
func bindScheme(n *callNode) string {
	v, ok := n.constArg(1)
	if !ok || v.k != kString {
		return "the encoding scheme must be the literal string 'base64'"
	}
	if strings.EqualFold(v.s, "proto") {
		return "the 'proto' scheme is not supported by moat (it reads a descriptor from Amazon S3)"
	}
	if !strings.EqualFold(v.s, "base64") {
		return "unknown encoding scheme " + quoteText(v.s) + " (expected 'base64')"
	}
	_, star := n.args[0].(starNode)
	n.state = schemeState{star: star}
	return ""
}

// fnEncode base64-encodes the payload's bytes (encode(*, 'base64'), JSON or
// not) or a value converted to a string.
func fnEncode(c *evalCtx, n *callNode, a []value) value {
	var src string
	switch st, _ := n.state.(schemeState); {
	case st.star && c.row == nil:
		src = c.payload
	case a[0].k == kBinary:
		src = a[0].s
	default:
		s, ok := c.toStr(a[0])
		if !ok {
			return undef
		}
		src = s
	}
	start := len(c.arena)
	c.arena = base64.StdEncoding.AppendEncode(c.arena, []byte(src))
	return strV(b2s(c.arena[start:]))
}

// fnDecode base64-decodes a string: a JSON document comes back as its value
// (so decode(...).field works), anything else as a String; text that is not
// base64 gives Null.
func fnDecode(c *evalCtx, _ *callNode, a []value) value {
	s, ok := c.toStr(a[0])
	if !ok {
		return undef
	}
	s = strings.TrimRight(s, "=") // Java's decoder does not require padding
	start := len(c.arena)
	var err error
	c.arena, err = base64.RawStdEncoding.AppendDecode(c.arena, []byte(s))
	if err != nil {
		c.arena = c.arena[:start]
		return nullV
	}
	text := b2s(c.arena[start:])
	if isJSON(text) {
		i := skipWS(text, 0)
		return c.fromJSON(text[i:skipValue(text, i)])
	}
	return strV(text)
}

// fnTransform implements transform('enrichArray', object, array): each
// object element of the array with the object's members added.
func fnTransform(c *evalCtx, _ *callNode, a []value) value {
	if a[0].k != kString || a[0].s != "enrichArray" || a[1].k != kObject || a[2].k != kArray {
		return undef
	}
	var out []value
	c.elements(a[2], func(e value) bool {
		if e.k != kObject {
			return true
		}
		x := &ext{}
		add := func(k string, v value) {
			for i, have := range x.keys {
				if have == k {
					x.vals[i] = v
					return
				}
			}
			x.keys = append(x.keys, k)
			x.vals = append(x.vals, v)
		}
		c.objectMembers(e, add)
		c.objectMembers(a[1], add)
		out = append(out, value{k: kObject, x: x})
		return true
	})
	return arrV(out)
}

// fnGetThingShadow reads a shadow through Input.Env:
// get_thing_shadow(thing, roleArn) for the classic shadow and
// get_thing_shadow(thing, shadowName, roleArn) for a named one. The role is
// not used: moat's rules read shadows with the engine's own authority. A
// missing shadow, or anything but a String thing name, is Undefined.
func fnGetThingShadow(c *evalCtx, _ *callNode, a []value) value {
	if c.in == nil || c.in.Env == nil {
		return c.fail(ErrNoEnv)
	}
	if a[0].k != kString {
		return undef
	}
	shadow := ""
	if len(a) == 3 {
		if a[1].k != kString {
			return undef
		}
		shadow = a[1].s
	}
	ctx := c.in.Context
	if ctx == nil {
		ctx = context.Background()
	}
	doc, err := c.in.Env.GetThingShadow(ctx, a[0].s, shadow)
	if err != nil {
		return undef
	}
	start := len(c.arena)
	c.arena = append(c.arena, doc...)
	text := b2s(c.arena[start:])
	if !isJSON(text) {
		return undef
	}
	i := skipWS(text, 0)
	return c.fromJSON(text[i:skipValue(text, i)])
}
