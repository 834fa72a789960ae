package document

import (
	"bytes"
	"unicode/utf8"
)

// Update is a parsed and validated update request:
//
//	{"state":{"desired":{...},"reported":{...}},"version":N,"clientToken":"..."}
//
// In desired and reported a null member deletes that key; "desired":null and
// "reported":null clear a section, "state":null clears both. Members of the
// request other than state, version and clientToken are ignored, as AWS does.
type Update struct {
	// ClientToken is the request's clientToken, "" when absent; responses
	// echo it.
	ClientToken string
	// Version is the version the client expects the shadow to have; it is
	// checked only when HasVersion (the request had a non-null "version").
	Version    int64
	HasVersion bool

	state    value  // kindNull, or an object whose members are desired and/or reported
	desired  *value // in state.kids; nil when the request has no desired
	reported *value // in state.kids; nil when the request has no reported
	strBytes int    // bytes of keys, strings and numbers in state
}

// ClearsState reports whether the request is {"state":null}, which empties
// the shadow (it still exists, and its version still increases).
func (u *Update) ClearsState() bool { return u.state.kind == kindNull }

// topFields are the positions, in the payload, of the members of the request
// object that matter; -1 when absent. A repeated member counts by its last
// occurrence, as in Jackson.
type topFields struct {
	state, stateEnd, version, clientToken int
}

// open checks the encoding of a payload and returns a parser positioned on
// its first byte, to release when done. UTF-16 and UTF-32 payloads (known by
// their BOM, or by the zero bytes their first, ASCII, character has, as
// Jackson detects them) are 415; a UTF-8 BOM is skipped; any other invalid
// UTF-8 is Invalid JSON.
func open(payload []byte) (*parser, *Error) {
	if len(payload) == 0 {
		return nil, ErrInvalidJSON
	}
	if len(payload) >= 2 && (payload[0] == 0 || payload[1] == 0 ||
		payload[0] == 0xFE && payload[1] == 0xFF || payload[0] == 0xFF && payload[1] == 0xFE) {
		return nil, ErrUnsupportedEncoding
	}
	payload = bytes.TrimPrefix(payload, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(payload) {
		return nil, ErrInvalidJSON
	}
	return newParser(payload), nil
}

// scanTop validates the whole payload, which must be one JSON object, and
// finds its state, version and clientToken members. With lazyState, the
// state member is only delimited, for the caller to validate.
func scanTop(p *parser, lazyState bool) (topFields, error) {
	f := topFields{-1, -1, -1, -1}
	if err := p.expect('{'); err != nil {
		return f, err
	}
	p.ws()
	if p.peek() == '}' {
		p.pos++
	} else {
		for {
			p.ws()
			if p.peek() != '"' {
				return f, errSyntax
			}
			key, err := p.str()
			if err != nil {
				return f, err
			}
			var field *int
			switch string(key) {
			case "state":
				field = &f.state
			case "version":
				field = &f.version
			case "clientToken":
				field = &f.clientToken
			}
			if err := p.expect(':'); err != nil {
				return f, err
			}
			p.ws()
			if field == &f.state && lazyState && f.state >= 0 {
				// A repeated state: the last one counts, but the one
				// before must be valid JSON too.
				save := p.pos
				p.pos = f.state
				if err := p.skip(1); err != nil {
					return f, err
				}
				p.pos = save
			}
			if field != nil {
				*field = p.pos
			}
			if field == &f.state && lazyState {
				err = p.skipFast() // the caller parses, and validates, it next
			} else {
				err = p.skip(1)
			}
			if err != nil {
				return f, err
			}
			if field == &f.state {
				f.stateEnd = p.pos
			}
			p.ws()
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if err := p.expect('}'); err != nil {
				return f, err
			}
			break
		}
	}
	p.ws()
	if p.pos != len(p.data) {
		return f, errSyntax
	}
	return f, nil
}

// clientToken reads the clientToken member at pos (-1: absent).
func clientToken(p *parser, pos int, lim Limits) (string, *Error) {
	if pos < 0 {
		return "", nil
	}
	p.pos = pos
	switch p.peek() {
	case 'n':
		return "", nil // null: as if absent
	case '"':
		b, _ := p.str() // validated by scanTop
		if len(b) > lim.MaxClientTokenBytes {
			return "", ErrInvalidClientToken
		}
		return string(b), nil
	}
	return "", ErrInvalidClientToken
}

// ClientToken returns the clientToken of a get or delete request, whose
// payload AWS otherwise ignores: "" when the payload is empty, not JSON, not
// an object, or has no clientToken (or a null one). A clientToken that is not
// a string, or is longer than lim.MaxClientTokenBytes, is ErrInvalidClientToken.
//
// It also recovers the token of an update that ParseUpdate rejected, for the
// error document; it then returns "" with an error for a bad token, whose
// rejection AWS sends without one.
func ClientToken(payload []byte, lim Limits) (string, error) {
	p, perr := open(payload)
	if perr != nil {
		return "", nil
	}
	defer p.release()
	f, err := scanTop(p, false)
	if err != nil {
		return "", nil
	}
	tok, terr := clientToken(p, f.clientToken, lim.withDefaults())
	if terr != nil {
		return "", terr
	}
	return tok, nil
}

// ParseUpdate parses and validates an update request. Every violation is an
// *Error, checked in this order:
//
//   - empty payload, or not an UTF-8 JSON object: 400 Invalid JSON (UTF-16
//     and UTF-32 payloads: 415);
//   - clientToken not a string or too long: 400 Invalid clientToken;
//   - no state: 400 Missing required node: state; state neither an object
//     nor null: 400 State node must be an object; desired (reported) neither
//     an object nor null: 400 Desired (Reported) node must be an object; any
//     other member in state: 400 State contains an invalid node;
//   - version neither null nor an integer in [0, 2^63): 400 Invalid version;
//   - desired or reported deeper than lim.MaxDepth: 400 JSON contains too
//     many levels of nesting; maximum is 6;
//   - a null inside an array (at any depth): 400 Invalid JSON;
//   - a request state over lim.MaxStateBytes: 413.
//
// When ParseUpdate fails, ClientToken(payload, lim) gives the token to echo
// in the error document.
func ParseUpdate(payload []byte, lim Limits) (*Update, error) {
	lim = lim.withDefaults()
	p, perr := open(payload)
	if perr != nil {
		return nil, perr
	}
	defer p.release()
	f, err := scanTop(p, true)
	if err != nil {
		return nil, ErrInvalidJSON
	}
	u := &Update{}
	var terr *Error
	if u.ClientToken, terr = clientToken(p, f.clientToken, lim); terr != nil {
		return nil, terr
	}
	if f.state < 0 {
		return nil, ErrMissingState
	}
	// The state's strings are at most as long as its text.
	p.arena.Grow(f.stateEnd - f.state)
	p.pos = f.state
	if u.state, err = p.value(1); err != nil || p.pos != f.stateEnd {
		return nil, ErrInvalidJSON
	}
	if err := u.checkState(); err != nil {
		return nil, err
	}
	if err := u.readVersion(p, f.version); err != nil {
		return nil, err
	}
	size := 0
	for _, sec := range [...]*value{u.desired, u.reported} {
		if sec == nil {
			continue
		}
		if sec.kind == kindObject {
			if depth(sec) > lim.MaxDepth {
				return nil, tooDeep(lim.MaxDepth)
			}
			if nullInArray(sec, false) {
				return nil, ErrInvalidJSON
			}
		}
		size += encodedLen(sec)
		u.strBytes += stringBytes(sec)
	}
	if size > lim.MaxStateBytes {
		return nil, ErrPayloadTooLarge
	}
	return u, nil
}

// checkState validates the shape of the state node and finds its sections.
func (u *Update) checkState() *Error {
	switch u.state.kind {
	case kindNull:
		return nil
	case kindObject:
	default:
		return ErrStateNotObject
	}
	for i := range u.state.kids {
		m := &u.state.kids[i]
		switch m.key {
		case "desired":
			if m.val.kind != kindObject && m.val.kind != kindNull {
				return ErrDesiredNotObject
			}
			u.desired = &m.val
		case "reported":
			if m.val.kind != kindObject && m.val.kind != kindNull {
				return ErrReportedNotObject
			}
			u.reported = &m.val
		default:
			return ErrInvalidNode
		}
	}
	return nil
}

// readVersion reads the version member at pos (-1: absent).
func (u *Update) readVersion(p *parser, pos int) *Error {
	if pos < 0 {
		return nil
	}
	p.pos = pos
	if p.peek() == 'n' {
		return nil // null: as if absent
	}
	c := p.peek()
	if c < '0' || c > '9' {
		return ErrInvalidVersion // negative, or not a number
	}
	b, _ := p.number()   // validated by scanTop
	v, ok := parseInt(b) // no fraction, no exponent, within int64
	if !ok {
		return ErrInvalidVersion
	}
	u.Version, u.HasVersion = v, true
	return nil
}

// nullInArray reports whether v holds a null inside an array (AWS: "Arrays
// can't have null values"; a null in an object inside an array would be
// stored, not mean a deletion, so it is refused too).
func nullInArray(v *value, inArray bool) bool {
	if v.kind == kindNull {
		return inArray
	}
	for i := range v.kids {
		if nullInArray(&v.kids[i].val, inArray || v.kind == kindArray) {
			return true
		}
	}
	return false
}
