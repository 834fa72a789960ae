package provisioning

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

// String names the kind as a template author would: "a string", "an array".
func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// node is one JSON value, read token by token so that object members keep
// their document order (the order in which policies are attached) and
// duplicate keys are seen (encoding/json silently keeps the last one).
type node struct {
	kind kind
	// text is the string value, the number literal, or "true"/"false".
	text string
	// elems holds array elements in order.
	elems []node
	// keys and vals hold object members in document order.
	keys []string
	vals []node
}

// member returns the value of key in an object node.
func (n *node) member(key string) (*node, bool) {
	for i, k := range n.keys {
		if k == key {
			return &n.vals[i], true
		}
	}
	return nil, false
}

// decodeTree reads exactly one JSON value from body. Trailing data other
// than whitespace, duplicate keys and nesting deeper than MaxNesting are
// errors.
func decodeTree(body string) (node, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	n, err := readValue(dec, body, "", 1)
	if err != nil {
		return node{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return node{}, syntaxErr(dec, body, "unexpected data after the end of the JSON document")
	}
	return n, nil
}

func readValue(dec *json.Decoder, body, path string, depth int) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, jsonErr(dec, body, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > MaxNesting {
			return node{}, newErr(ErrSyntax, path, "JSON nested deeper than %d levels", MaxNesting)
		}
		if t == '{' {
			return readObject(dec, body, path, depth)
		}
		return readArray(dec, body, path, depth)
	case string:
		return node{kind: kString, text: t}, nil
	case json.Number:
		return node{kind: kNumber, text: string(t)}, nil
	case bool:
		if t {
			return node{kind: kBool, text: "true"}, nil
		}
		return node{kind: kBool, text: "false"}, nil
	default:
		return node{kind: kNull}, nil
	}
}

func readObject(dec *json.Decoder, body, path string, depth int) (node, error) {
	n := node{kind: kObject}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return node{}, jsonErr(dec, body, err)
		}
		key, _ := tok.(string) // the decoder guarantees a string key here
		if _, seen := n.member(key); seen {
			return node{}, newErr(ErrSyntax, path, "duplicate key %q", key)
		}
		v, err := readValue(dec, body, join(path, key), depth+1)
		if err != nil {
			return node{}, err
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return node{}, jsonErr(dec, body, err)
	}
	return n, nil
}

func readArray(dec *json.Decoder, body, path string, depth int) (node, error) {
	n := node{kind: kArray}
	for dec.More() {
		v, err := readValue(dec, body, index(path, len(n.elems)), depth+1)
		if err != nil {
			return node{}, err
		}
		n.elems = append(n.elems, v)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return node{}, jsonErr(dec, body, err)
	}
	return n, nil
}

// jsonErr turns a decoder error into an ErrSyntax *Error with a line and
// column.
func jsonErr(dec *json.Decoder, body string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return newErr(ErrSyntax, "", "template body is not valid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(body, se.Offset)
		return newErr(ErrSyntax, "", "template body is not valid JSON: line %d, column %d: %s", line, col, se.Error())
	}
	return syntaxErr(dec, body, err.Error())
}

func syntaxErr(dec *json.Decoder, body, msg string) error {
	line, col := lineCol(body, dec.InputOffset())
	return newErr(ErrSyntax, "", "template body is not valid JSON: line %d, column %d: %s", line, col, msg)
}

// lineCol converts a byte offset into 1-based line and column numbers.
func lineCol(body string, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	before := body[:off]
	line = 1 + strings.Count(before, "\n")
	col = int(off) - strings.LastIndexByte(before, '\n')
	return line, col
}

// encodeJSON writes n as compact JSON, keeping member order and number
// literals as they were written.
func encodeJSON(buf *strings.Builder, n *node) {
	switch n.kind {
	case kNull:
		buf.WriteString("null")
	case kBool, kNumber:
		buf.WriteString(n.text)
	case kString:
		b, _ := json.Marshal(n.text) // a string always marshals
		buf.Write(b)
	case kArray:
		buf.WriteByte('[')
		for i := range n.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeJSON(buf, &n.elems[i])
		}
		buf.WriteByte(']')
	case kObject:
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, _ := json.Marshal(k)
			buf.Write(b)
			buf.WriteByte(':')
			encodeJSON(buf, &n.vals[i])
		}
		buf.WriteByte('}')
	}
}
