package document

import "strconv"

// The encoder writes compact JSON: no whitespace, members in their stored
// order, numbers as the client wrote them, strings as UTF-8 with only '"',
// '\\' and control characters escaped (like Jackson, and unlike
// encoding/json, it leaves '<', '>', '&', U+2028 and U+2029 alone).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// stringLen is len(appendString(nil, s)).
func stringLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5
		}
	}
	return n
}

// appendValue appends v as JSON.
func appendValue(b []byte, v *value) []byte {
	switch v.kind {
	case kindNull:
		return append(b, "null"...)
	case kindTrue:
		return append(b, "true"...)
	case kindFalse:
		return append(b, "false"...)
	case kindNumber:
		return append(b, v.str...)
	case kindString:
		return appendString(b, v.str)
	case kindArray:
		b = append(b, '[')
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, &v.kids[i].val)
		}
		return append(b, ']')
	case kindObject:
		b = append(b, '{')
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.kids[i].key)
			b = append(b, ':')
			b = appendValue(b, &v.kids[i].val)
		}
		return append(b, '}')
	}
	return b
}

// encodedLen is len(appendValue(nil, v)), computed without encoding.
func encodedLen(v *value) int {
	switch v.kind {
	case kindNull, kindTrue:
		return 4
	case kindFalse:
		return 5
	case kindNumber:
		return len(v.str)
	case kindString:
		return stringLen(v.str)
	case kindArray, kindObject:
		n := 2 // brackets
		if len(v.kids) > 1 {
			n += len(v.kids) - 1 // commas
		}
		for i := range v.kids {
			if v.kind == kindObject {
				n += stringLen(v.kids[i].key) + 1 // key and colon
			}
			n += encodedLen(&v.kids[i].val)
		}
		return n
	}
	return 0
}

// tsText writes {"timestamp":ts}, keeping the digits of the last ts: a
// document repeats a few timestamps many times.
type tsText struct {
	ts  int64
	n   int // 0: nothing cached yet
	buf [20]byte
}

func (c *tsText) append(b []byte, ts int64) []byte {
	if c.n == 0 || c.ts != ts {
		c.ts, c.n = ts, len(strconv.AppendInt(c.buf[:0], ts, 10))
	}
	b = append(b, `{"timestamp":`...)
	b = append(b, c.buf[:c.n]...)
	return append(b, '}')
}

// appendMeta appends the metadata of v, a stored value: the timestamps its
// leaves carry, in the shape of v.
func appendMeta(b []byte, v *value, c *tsText) []byte {
	switch v.kind {
	case kindArray, kindObject:
		open, closing := byte('['), byte(']')
		if v.kind == kindObject {
			open, closing = '{', '}'
		}
		b = append(b, open)
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			if v.kind == kindObject {
				b = appendString(b, v.kids[i].key)
				b = append(b, ':')
			}
			b = appendMeta(b, &v.kids[i].val, c)
		}
		return append(b, closing)
	}
	return c.append(b, v.ts)
}

// appendRequestMeta appends the metadata that update/accepted reports for v,
// a value of the request: every leaf, and every null (a deletion), gets
// {"timestamp":now}.
func appendRequestMeta(b []byte, v *value, now *tsText) []byte {
	switch v.kind {
	case kindArray, kindObject:
		open, closing := byte('['), byte(']')
		if v.kind == kindObject {
			open, closing = '{', '}'
		}
		b = append(b, open)
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			if v.kind == kindObject {
				b = appendString(b, v.kids[i].key)
				b = append(b, ':')
			}
			b = appendRequestMeta(b, &v.kids[i].val, now)
		}
		return append(b, closing)
	}
	return now.append(b, now.ts)
}

// metaLen estimates len(appendMeta(nil, v)), for sizing buffers.
func metaLen(v *value) int {
	switch v.kind {
	case kindNone:
		return 0
	case kindArray, kindObject:
	default:
		return 24 // {"timestamp":1700000000}
	}
	n := 2 + len(v.kids)
	for i := range v.kids {
		n += len(v.kids[i].key) + 3 + metaLen(&v.kids[i].val)
	}
	return n
}

// appendClientToken appends ,"clientToken":token when token is not empty.
func appendClientToken(b []byte, token string) []byte {
	if token == "" {
		return b
	}
	b = append(b, `,"clientToken":`...)
	return appendString(b, token)
}
