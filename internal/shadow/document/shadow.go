package document

import (
	"errors"
	"fmt"
	"strconv"
)

// Shadow is the stored state of one shadow: desired and reported, the
// timestamp of every leaf (the metadata), and the version.
//
// A Shadow built by Unmarshal or returned by Apply exists. Any other Shadow,
// the zero value included, does not: &Shadow{} is a shadow never created, and
// &Shadow{Version: v} a deleted one whose next version is v+1 (AWS keeps the
// version of a deleted shadow for 48 hours; the caller decides which v to
// pass). A Shadow is immutable: Apply returns a new one, sharing memory with
// the old.
type Shadow struct {
	// Version is the version of the document: 1 after the first update,
	// one more after each. For a shadow that does not exist, the version
	// its next update continues from (0 for a new shadow).
	Version int64

	exists            bool
	desired, reported value // non-empty objects, or kindNone when absent
	retained          int   // bytes of string arenas this shadow may keep alive
}

// Exists reports whether the shadow exists (see Shadow).
func (s *Shadow) Exists() bool { return s.exists }

// StateSize is the size of the shadow's state as the limit counts it: the
// length of the compact JSON of desired plus that of reported, metadata
// excluded (AWS: "Only the data for desired and reported state ... counts
// toward the limit"), as AWS's Greengrass shadow manager also counts it.
func (s *Shadow) StateSize() int {
	return encodedLen(&s.desired) + encodedLen(&s.reported)
}

// Marshal returns the stored encoding of the shadow, compact JSON:
//
//	{"state":{"desired":{...},"reported":{...}},"metadata":{"desired":{...},"reported":{...}},"version":N}
//
// with absent sections left out. Unmarshal reads it back, as a shadow that
// exists: a deleted shadow's version is for the store to keep apart.
func (s *Shadow) Marshal() []byte {
	b := make([]byte, 0, 96+s.StateSize()+metaLen(&s.desired)+metaLen(&s.reported))
	b = append(b, `{"state":`...)
	b = appendSections(b, &s.desired, &s.reported, nil)
	b = append(b, `,"metadata":`...)
	b = appendMetaSections(b, &s.desired, &s.reported)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, s.Version, 10)
	return append(b, '}')
}

// appendSections appends {"desired":...,"reported":...,"delta":...}, leaving
// out the absent ones; delta may be nil.
func appendSections(b []byte, desired, reported, delta *value) []byte {
	b = append(b, '{')
	sep := false
	for _, sec := range []struct {
		name string
		v    *value
	}{{"desired", desired}, {"reported", reported}, {"delta", delta}} {
		if sec.v == nil || sec.v.kind == kindNone {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, sec.name...)
		b = append(b, `":`...)
		b = appendValue(b, sec.v)
	}
	return append(b, '}')
}

// appendMetaSections appends {"desired":<metadata>,"reported":<metadata>}.
func appendMetaSections(b []byte, desired, reported *value) []byte {
	var c tsText
	b = append(b, '{')
	if desired.kind != kindNone {
		b = append(b, `"desired":`...)
		b = appendMeta(b, desired, &c)
	}
	if reported.kind != kindNone {
		if desired.kind != kindNone {
			b = append(b, ',')
		}
		b = append(b, `"reported":`...)
		b = appendMeta(b, reported, &c)
	}
	return append(b, '}')
}

// Get is the document of get/accepted and of the HTTP GetThingShadow
// response:
//
//	{"state":{"desired":{...},"reported":{...},"delta":{...}},
//	 "metadata":{"desired":{...},"reported":{...}},
//	 "version":V,"timestamp":T,"clientToken":K}
//
// with absent sections left out, delta only when desired differs from
// reported, and clientToken only when not empty. The caller answers 404
// instead for a shadow that does not exist.
func (s *Shadow) Get(now int64, clientToken string) []byte {
	delta := computeDelta(&s.desired, &s.reported)
	b := make([]byte, 0, 128+len(clientToken)+s.StateSize()+encodedLen(&delta)+metaLen(&s.desired)+metaLen(&s.reported))
	b = append(b, `{"state":`...)
	b = appendSections(b, &s.desired, &s.reported, &delta)
	b = append(b, `,"metadata":`...)
	b = appendMetaSections(b, &s.desired, &s.reported)
	b = appendVersionTimestamp(b, s.Version, now)
	b = appendClientToken(b, clientToken)
	return append(b, '}')
}

// appendVersionTimestamp appends ,"version":V,"timestamp":T.
func appendVersionTimestamp(b []byte, version, now int64) []byte {
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"timestamp":`...)
	return strconv.AppendInt(b, now, 10)
}

// Deleted is the document of delete/accepted and of the HTTP
// DeleteThingShadow response: {"version":V,"timestamp":T,"clientToken":K}.
//
// AWS counts a delete as a change of the shadow: its version goes up by one
// and an update within 48 hours continues from there (Greengrass
// ShadowManager, AWS's local shadow service, on the cloud: "IoT Device
// service increments the version of the shadow on a delete"). AWS does not
// document which number delete/accepted shows (its examples lack context);
// moto, the AWS mock, shows the incremented one, which is also the version
// an update must name to pass the version check afterwards. The service should therefore pass
// the deleted shadow's version plus one here, and keep it as the version of
// the deleted shadow: &Shadow{Version: version}.
func Deleted(version, now int64, clientToken string) []byte {
	b := make([]byte, 0, 48+len(clientToken))
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now, 10)
	b = appendClientToken(b, clientToken)
	return append(b, '}')
}

// errStored is the error of Unmarshal; the message says what is wrong.
var errStored = errors.New("document: invalid stored shadow")

func storedError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errStored}, args...)...)
}

// Unmarshal reads a shadow written by Marshal. It checks what Marshal
// guarantees: an object with state, metadata and version (at least 1) and
// nothing else; desired and reported objects; metadata that mirrors the state
// exactly, with an integer timestamp for every leaf and array element. The
// result exists. Empty sections are read as absent.
func Unmarshal(b []byte) (*Shadow, error) {
	p, perr := open(b)
	if perr != nil {
		return nil, storedError("not UTF-8 JSON")
	}
	defer p.release()
	pos, err := scanStored(p)
	if err != nil {
		return nil, err
	}
	s := &Shadow{exists: true}
	p.arena.Grow(pos.stateEnd - pos.state)
	p.pos = pos.state
	state, err := p.value(1)
	if err != nil || p.pos != pos.stateEnd || state.kind != kindObject {
		return nil, storedError("state is not a JSON object")
	}
	for i := range state.kids {
		m := &state.kids[i]
		var sec *value
		switch m.key {
		case "desired":
			sec = &s.desired
		case "reported":
			sec = &s.reported
		default:
			return nil, storedError("state has %q", m.key)
		}
		if m.val.kind != kindObject {
			return nil, storedError("%s is not an object", m.key)
		}
		if nullInArray(&m.val, true) { // no null anywhere
			return nil, storedError("%s holds a null", m.key)
		}
		*sec = m.val
	}
	p.pos = pos.metadata
	if err := attachSections(p, &s.desired, &s.reported); err != nil {
		return nil, err
	}
	if p.pos != pos.metadataEnd {
		return nil, storedError("metadata is not JSON")
	}
	for _, sec := range []*value{&s.desired, &s.reported} {
		if len(sec.kids) == 0 {
			*sec = value{}
		}
	}
	p.pos = pos.version
	c := p.peek()
	nb, err := p.number()
	v, ok := parseInt(nb)
	if c < '1' || c > '9' || err != nil || !ok {
		return nil, storedError("version is not a positive integer")
	}
	s.Version = v
	s.retained = p.arena.Cap()
	return s, nil
}

// storedFields are the positions of the members of a stored shadow.
type storedFields struct {
	state, stateEnd, metadata, metadataEnd, version int
}

// scanStored checks the outer object of a stored shadow and finds its three
// members; state and metadata are only delimited here, Unmarshal parses them.
func scanStored(p *parser) (storedFields, error) {
	f := storedFields{-1, -1, -1, -1, -1}
	if err := p.expect('{'); err != nil {
		return f, storedError("not a JSON object")
	}
	for first := true; ; first = false {
		p.ws()
		if first && p.peek() == '}' {
			p.pos++
			break
		}
		if p.peek() != '"' {
			return f, storedError("not a JSON object")
		}
		key, err := p.str()
		if err != nil {
			return f, storedError("invalid JSON")
		}
		var field *int
		switch string(key) {
		case "state":
			field = &f.state
		case "metadata":
			field = &f.metadata
		case "version":
			field = &f.version
		default:
			return f, storedError("unknown member %q", key)
		}
		if *field >= 0 {
			return f, storedError("repeated member %q", key)
		}
		if err := p.expect(':'); err != nil {
			return f, storedError("invalid JSON")
		}
		p.ws()
		*field = p.pos
		if field == &f.version {
			err = p.skip(1)
		} else {
			err = p.skipFast() // state and metadata are validated when parsed
		}
		if err != nil {
			return f, storedError("invalid JSON")
		}
		if field == &f.state {
			f.stateEnd = p.pos
		} else if field == &f.metadata {
			f.metadataEnd = p.pos
		}
		p.ws()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		if err := p.expect('}'); err != nil {
			return f, storedError("invalid JSON")
		}
		break
	}
	p.ws()
	if p.pos != len(p.data) {
		return f, storedError("invalid JSON")
	}
	if f.state < 0 || f.metadata < 0 || f.version < 0 {
		return f, storedError("state, metadata and version are required")
	}
	return f, nil
}

// attachSections reads the metadata object at p.pos and sets the timestamps
// of the sections' leaves from it.
func attachSections(p *parser, desired, reported *value) error {
	if p.peek() != '{' {
		return storedError("metadata is not an object")
	}
	var kids [2]member
	root := value{kind: kindObject, kids: kids[:0]}
	if desired.kind != kindNone {
		root.kids = append(root.kids, member{"desired", *desired})
	}
	if reported.kind != kindNone {
		root.kids = append(root.kids, member{"reported", *reported})
	}
	if err := attach(p, &root); err != nil {
		return err
	}
	for _, m := range root.kids {
		if m.key == "desired" {
			*desired = m.val
		} else {
			*reported = m.val
		}
	}
	return nil
}

// attach reads the metadata of v at p.pos, which must mirror v, and sets the
// timestamps of v's leaves. v is freshly parsed and not shared yet.
func attach(p *parser, v *value) error {
	p.ws()
	switch v.kind {
	case kindArray:
		if err := p.expect('['); err != nil {
			return storedError("metadata does not mirror the state")
		}
		for i := range v.kids {
			if i > 0 {
				if err := p.expect(','); err != nil {
					return storedError("metadata does not mirror the state")
				}
			}
			if err := attach(p, &v.kids[i].val); err != nil {
				return err
			}
		}
		if err := p.expect(']'); err != nil {
			return storedError("metadata does not mirror the state")
		}
		return nil
	case kindObject:
		return attachObject(p, v)
	}
	// A leaf: {"timestamp":N}.
	if p.expect('{') != nil {
		return storedError("metadata does not mirror the state")
	}
	p.ws()
	if p.peek() != '"' {
		return storedError("metadata leaf is not {\"timestamp\":N}")
	}
	key, err := p.str()
	if err != nil || string(key) != "timestamp" || p.expect(':') != nil {
		return storedError("metadata leaf is not {\"timestamp\":N}")
	}
	p.ws()
	nb, err := p.number()
	if err != nil {
		return storedError("metadata timestamp is not an integer")
	}
	ts, ok := parseInt(nb)
	if !ok {
		return storedError("metadata timestamp is not an integer")
	}
	v.ts = ts
	if p.expect('}') != nil {
		return storedError("metadata leaf is not {\"timestamp\":N}")
	}
	return nil
}

// attachObject is attach for an object: every member of v exactly once, in
// any order.
func attachObject(p *parser, v *value) error {
	if err := p.expect('{'); err != nil {
		return storedError("metadata does not mirror the state")
	}
	var seenSmall uint64
	var seenLarge []bool
	if len(v.kids) > 64 {
		seenLarge = make([]bool, len(v.kids))
	}
	ix := newIndex(v.kids)
	n := 0
	p.ws()
	if p.peek() == '}' {
		p.pos++
	} else {
		for {
			p.ws()
			if p.peek() != '"' {
				return storedError("metadata does not mirror the state")
			}
			key, err := p.str()
			if err != nil {
				return storedError("invalid JSON")
			}
			i := ix.find(string(key))
			if i < 0 {
				return storedError("metadata has %q, the state does not", key)
			}
			if seenLarge != nil {
				if seenLarge[i] {
					return storedError("metadata repeats %q", key)
				}
				seenLarge[i] = true
			} else {
				if seenSmall&(1<<i) != 0 {
					return storedError("metadata repeats %q", key)
				}
				seenSmall |= 1 << i
			}
			n++
			if err := p.expect(':'); err != nil {
				return storedError("invalid JSON")
			}
			if err := attach(p, &v.kids[i].val); err != nil {
				return err
			}
			p.ws()
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if err := p.expect('}'); err != nil {
				return storedError("invalid JSON")
			}
			break
		}
	}
	if n != len(v.kids) {
		return storedError("metadata lacks %d members of the state", len(v.kids)-n)
	}
	return nil
}
