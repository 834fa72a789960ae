package document

import (
	"math"
	"strconv"
	"strings"
)

// Result is what an accepted update produces: the new shadow, to store, and
// the documents the service publishes (and, for Accepted, returns over HTTP).
//
// Accepted and Delta carry the same version, the new one, as in AWS (a
// device that drops messages whose version it has already seen misses the
// delta; aws-iot-device-sdk-embedded-C issues 32 and 90, which AWS answered
// as expected behaviour). Documents carries the old version in previous and
// the new one in current.
type Result struct {
	// Shadow is the shadow after the update.
	Shadow *Shadow
	// Accepted is the update/accepted document: the request's state as it
	// was sent (re-encoded compactly), the metadata of the request's leaves
	// and nulls, the new version, the timestamp and the clientToken:
	//
	//	{"state":{...},"metadata":{...},"version":V,"timestamp":T,"clientToken":K}
	Accepted []byte
	// Delta is the update/delta document, nil when desired and reported
	// agree after the update: the whole delta (not only what this update
	// changed) and its metadata, taken from desired:
	//
	//	{"version":V,"timestamp":T,"state":{...},"metadata":{...},"clientToken":K}
	Delta []byte
	// Documents is the update/documents document, "previous" being null
	// when the shadow did not exist (a first update, or one after a delete):
	//
	//	{"previous":{"state":{...},"metadata":{...},"version":V-1},
	//	 "current":{"state":{...},"metadata":{...},"version":V},
	//	 "timestamp":T,"clientToken":K}
	Documents []byte
}

// Apply applies u to s at time now (epoch seconds) and returns the new
// shadow with its documents; s is not modified. s may not exist (see Shadow):
// the new shadow then exists with version s.Version+1, 1 for a new shadow.
//
// Merge rules (AWS IoT Developer Guide, "Device Shadow service documents"):
//
//   - objects merge key by key, recursively; a null deletes the key;
//   - any other value (string, number, boolean, array) replaces the old one
//     whole, arrays included; a new object replaces a non-object;
//   - "desired":null and "reported":null delete the section, "state":null
//     both; a section left empty is removed;
//   - a nested object whose members are all deleted stays, as {} (AWS
//     keeps it; AWS's Greengrass shadow manager was changed to match), and
//     {} can be set like any value; but a new object whose members are all
//     nulls creates nothing (deleting inside something absent does nothing);
//   - every leaf and array element the update sets gets the timestamp now
//     in the metadata, the others keep theirs; deleted keys lose theirs.
//
// Errors, as *Error: ErrVersionConflict when u.HasVersion and u.Version is
// not s.Version; 400 JSON contains too many levels of nesting, or
// ErrPayloadTooLarge, when the new state would exceed lim; ErrInternal when
// s.Version is the largest int64. On error nothing is built. Apply only
// reads s and u: concurrent calls are safe.
func (s *Shadow) Apply(u *Update, now int64, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	if u.HasVersion && u.Version != s.Version {
		return nil, ErrVersionConflict
	}
	if s.Version == math.MaxInt64 {
		return nil, ErrInternal
	}
	n := &Shadow{
		Version:  s.Version + 1,
		exists:   true,
		desired:  s.desired,
		reported: s.reported,
	}
	m := merger{now: now}
	m.arena.Grow(u.strBytes)
	if u.ClearsState() {
		n.desired, n.reported = value{}, value{}
	} else {
		n.desired = m.section(&s.desired, u.desired)
		n.reported = m.section(&s.reported, u.reported)
	}
	if depth(&n.desired) > lim.MaxDepth || depth(&n.reported) > lim.MaxDepth {
		return nil, tooDeep(lim.MaxDepth)
	}
	if n.StateSize() > lim.MaxStateBytes {
		return nil, ErrPayloadTooLarge
	}
	n.retained = s.retained + m.arena.Cap()
	n.compact()

	res := &Result{Shadow: n}
	res.Accepted = u.accepted(n.Version, now)
	if delta := computeDelta(&n.desired, &n.reported); delta.kind != kindNone {
		res.Delta = deltaDocument(&delta, n.Version, now, u.ClientToken)
	}
	res.Documents = documents(s, n, now, u.ClientToken)
	return res, nil
}

// compactSlack is the memory a shadow may pin beyond 4 times its strings
// before compact copies them: more than a stored shadow of AWS's size pins
// after Unmarshal, so that the usual path (Unmarshal, Apply, Marshal) never
// copies.
const compactSlack = 16 << 10

// compact copies the strings of s into one new arena when the arenas it
// shares with earlier shadows hold much more than s uses, so that a shadow
// kept in memory through many updates never pins the memory of every
// request that once touched it.
func (s *Shadow) compact() {
	live := stringBytes(&s.desired) + stringBytes(&s.reported)
	if s.retained <= 4*live+compactSlack {
		return
	}
	var m merger
	m.arena.Grow(live)
	s.desired = m.copyStored(&s.desired)
	s.reported = m.copyStored(&s.reported)
	s.retained = m.arena.Cap()
}

// merger builds the values an update adds to a shadow. Their strings are
// copied into one arena sized for the request, never left pointing into the
// request's own memory.
type merger struct {
	now   int64
	arena strings.Builder
}

// str copies s into the arena.
func (m *merger) str(s string) string {
	if s == "" {
		return ""
	}
	start := m.arena.Len()
	m.arena.WriteString(s)
	return m.arena.String()[start:]
}

// section applies the request's section patch (nil: absent) to old.
func (m *merger) section(old, patch *value) value {
	switch {
	case patch == nil:
		return *old
	case patch.kind == kindNull:
		return value{}
	}
	kids := m.merge(old.kids, patch.kids)
	if len(kids) == 0 {
		return value{}
	}
	return value{kind: kindObject, kids: kids}
}

// merge returns the members of old (an object's, possibly none) with the
// members of patch (a request object's) applied. Patch keys are unique, so a
// key appended here is never looked up again.
func (m *merger) merge(old, patch []member) []member {
	out := make([]member, len(old), len(old)+len(patch))
	copy(out, old)
	ix := newIndex(old)
	deleted := 0
	for i := range patch {
		pm := &patch[i]
		j := ix.find(pm.key)
		switch {
		case pm.val.kind == kindNull:
			if j >= 0 {
				out[j].val = value{} // a tombstone, compacted below
				deleted++
			}
			continue
		case pm.val.kind == kindObject && j >= 0 && out[j].val.kind == kindObject:
			out[j].val = value{kind: kindObject, kids: m.merge(out[j].val.kids, pm.val.kids)}
			continue
		}
		v, ok := m.fresh(&pm.val)
		if !ok {
			continue // deletions inside something that is not an object: nothing to do
		}
		if j >= 0 {
			out[j].val = v
		} else {
			out = append(out, member{m.str(pm.key), v})
		}
	}
	if deleted > 0 {
		kept := out[:0]
		for _, mb := range out {
			if mb.val.kind != kindNone {
				kept = append(kept, mb)
			}
		}
		clear(out[len(kept):])
		out = kept
	}
	return out
}

// fresh copies a request value into the shadow: leaves and array elements
// get the timestamp now, null members of objects are dropped. ok is false for
// an object whose members are all nulls (or such objects): it sets nothing.
func (m *merger) fresh(v *value) (value, bool) {
	switch v.kind {
	case kindObject:
		if len(v.kids) == 0 {
			return value{kind: kindObject}, true
		}
		kids := make([]member, 0, len(v.kids))
		for i := range v.kids {
			if v.kids[i].val.kind == kindNull {
				continue
			}
			c, ok := m.fresh(&v.kids[i].val)
			if ok {
				kids = append(kids, member{m.str(v.kids[i].key), c})
			}
		}
		if len(kids) == 0 {
			return value{}, false
		}
		return value{kind: kindObject, kids: kids}, true
	case kindArray:
		kids := make([]member, len(v.kids))
		for i := range v.kids {
			kids[i].val, _ = m.fresh(&v.kids[i].val) // no nulls in arrays (ParseUpdate)
		}
		return value{kind: kindArray, kids: kids}, true
	}
	return value{kind: v.kind, str: m.str(v.str), ts: m.now}, true
}

// copyStored deep-copies a shadow's value into the arena, timestamps kept.
func (m *merger) copyStored(v *value) value {
	c := value{kind: v.kind, ts: v.ts, str: m.str(v.str)}
	if v.kids != nil {
		c.kids = make([]member, len(v.kids))
		for i := range v.kids {
			c.kids[i] = member{m.str(v.kids[i].key), m.copyStored(&v.kids[i].val)}
		}
	}
	return c
}

// accepted is the update/accepted document of u at version.
func (u *Update) accepted(version, now int64) []byte {
	b := make([]byte, 0, 96+len(u.ClientToken)+encodedLen(&u.state)+metaLen(&u.state))
	b = append(b, `{"state":`...)
	b = appendValue(b, &u.state)
	b = append(b, `,"metadata":`...)
	b = appendRequestMeta(b, &u.state, &tsText{ts: now})
	b = appendVersionTimestamp(b, version, now)
	b = appendClientToken(b, u.ClientToken)
	return append(b, '}')
}

// deltaDocument is the update/delta document for delta at version.
func deltaDocument(delta *value, version, now int64, clientToken string) []byte {
	b := make([]byte, 0, 96+len(clientToken)+encodedLen(delta)+metaLen(delta))
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"state":`...)
	b = appendValue(b, delta)
	b = append(b, `,"metadata":`...)
	b = appendMeta(b, delta, &tsText{})
	b = appendClientToken(b, clientToken)
	return append(b, '}')
}

// documents is the update/documents document for the update of prev into cur.
func documents(prev, cur *Shadow, now int64, clientToken string) []byte {
	size := 192 + len(clientToken) + cur.StateSize() + metaLen(&cur.desired) + metaLen(&cur.reported)
	if prev.exists {
		size += prev.StateSize() + metaLen(&prev.desired) + metaLen(&prev.reported)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"previous":`...)
	if prev.exists {
		b = appendSnapshot(b, prev)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"current":`...)
	b = appendSnapshot(b, cur)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now, 10)
	b = appendClientToken(b, clientToken)
	return append(b, '}')
}

// appendSnapshot appends {"state":{...},"metadata":{...},"version":V}.
func appendSnapshot(b []byte, s *Shadow) []byte {
	b = append(b, `{"state":`...)
	b = appendSections(b, &s.desired, &s.reported, nil)
	b = append(b, `,"metadata":`...)
	b = appendMetaSections(b, &s.desired, &s.reported)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, s.Version, 10)
	return append(b, '}')
}
