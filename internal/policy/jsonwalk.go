package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxNesting is the deepest JSON nesting Parse reads. A valid policy nests
// at most 6 levels (document, Statement array, statement, Condition,
// operator, key, value array); anything deeper is rejected before it is
// read, which bounds the memory and stack an untrusted document can use.
const MaxNesting = 16

// jkind is the JSON type of a node.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// String names the kind as a policy author would: "a string", "an array".
func (k jkind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jnode is one JSON value, read token by token so that duplicate object
// keys are seen (encoding/json's Unmarshal silently keeps the last one).
type jnode struct {
	kind jkind
	// text is the string value, the number literal, or "true"/"false".
	text string
	// elems holds array elements in order.
	elems []jnode
	// keys and vals hold object members in document order.
	keys []string
	vals []jnode
	// dup is the first key that occurs twice in this object, or "".
	dup string
}

// member returns the value of key in an object node.
func (n *jnode) member(key string) (*jnode, bool) {
	for i, k := range n.keys {
		if k == key {
			return &n.vals[i], true
		}
	}
	return nil, false
}

// decodeTree reads exactly one JSON value from doc. Trailing data other
// than whitespace is an error.
func decodeTree(doc []byte) (jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	n, err := readValue(dec, 1)
	if err != nil {
		return jnode{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jnode{}, docErr("", "unexpected data after the end of the JSON document")
	}
	return n, nil
}

// readValue reads one value whose nesting level is depth (the top is 1).
func readValue(dec *json.Decoder, depth int) (jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return jnode{}, jsonErr(dec, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > MaxNesting {
			return jnode{}, docErr("", "JSON nested deeper than %d levels", MaxNesting)
		}
		if t == '{' {
			return readObject(dec, depth)
		}
		return readArray(dec, depth)
	case string:
		return jnode{kind: jString, text: t}, nil
	case json.Number:
		return jnode{kind: jNumber, text: string(t)}, nil
	case bool:
		if t {
			return jnode{kind: jBool, text: "true"}, nil
		}
		return jnode{kind: jBool, text: "false"}, nil
	default:
		return jnode{kind: jNull}, nil
	}
}

func readObject(dec *json.Decoder, depth int) (jnode, error) {
	n := jnode{kind: jObject}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jnode{}, jsonErr(dec, err)
		}
		key, _ := tok.(string) // the decoder guarantees a string key here
		v, err := readValue(dec, depth+1)
		if err != nil {
			return jnode{}, err
		}
		if _, seen := n.member(key); seen && n.dup == "" {
			n.dup = key
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jnode{}, jsonErr(dec, err)
	}
	return n, nil
}

func readArray(dec *json.Decoder, depth int) (jnode, error) {
	n := jnode{kind: jArray}
	for dec.More() {
		v, err := readValue(dec, depth+1)
		if err != nil {
			return jnode{}, err
		}
		n.elems = append(n.elems, v)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return jnode{}, jsonErr(dec, err)
	}
	return n, nil
}

// jsonErr turns a decoder error into a document-level SyntaxError.
func jsonErr(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return docErr("", "invalid JSON at byte %d: %s", se.Offset, se.Error())
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return docErr("", "invalid JSON: unexpected end of document at byte %d", dec.InputOffset())
	default:
		return docErr("", "invalid JSON at byte %d: %s", dec.InputOffset(), fmt.Sprint(err))
	}
}
