package document

// kind is the JSON type of a value. kindNone (the zero value) means "absent":
// a section that does not exist, or a key that is not there.
type kind uint8

const (
	kindNone kind = iota
	kindNull
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is one JSON value of a shadow or of a request. Values are immutable
// once built: a new shadow shares every subtree an update did not touch with
// the shadow it came from.
//
// Leaves (strings, numbers, booleans) and array elements carry the metadata
// timestamp of the update that last set them, so the metadata of a shadow is
// its state tree with each leaf replaced by {"timestamp":ts}, arrays by arrays
// of their elements' metadata and objects by objects of their members'
// metadata. Metadata therefore mirrors the state by construction.
type value struct {
	kind kind
	ts   int64    // metadata timestamp (epoch seconds) of a leaf; 0 in requests
	str  string   // the string, or the number exactly as written
	kids []member // object members in order (first occurrence wins the position), or array elements (key "")
}

// member is an object member or an array element.
type member struct {
	key string
	val value
}

// isContainer reports whether v is an object or an array.
func (v *value) isContainer() bool { return v.kind == kindObject || v.kind == kindArray }

// indexThreshold is the object size above which lookups build a map instead
// of scanning: a scan of a few members beats hashing, a scan of thousands
// makes merges quadratic.
const indexThreshold = 32

// index finds keys in an object's members, by scanning small objects and
// through a map built once for large ones.
type index struct {
	kids []member
	m    map[string]int
}

func newIndex(kids []member) index {
	ix := index{kids: kids}
	if len(kids) > indexThreshold {
		ix.m = make(map[string]int, len(kids))
		for i := range kids {
			ix.m[kids[i].key] = i
		}
	}
	return ix
}

// find returns the position of key, or -1.
func (ix *index) find(key string) int {
	if ix.m != nil {
		if i, ok := ix.m[key]; ok {
			return i
		}
		return -1
	}
	for i := range ix.kids {
		if ix.kids[i].key == key {
			return i
		}
	}
	return -1
}

// equal reports whether a and b are the same JSON value: numbers are
// compared by value (see numberEqual), objects regardless of member order,
// arrays element by element. Timestamps are ignored.
func equal(a, b *value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindNumber:
		return numberEqual(a.str, b.str)
	case kindString:
		return a.str == b.str
	case kindArray:
		if len(a.kids) != len(b.kids) {
			return false
		}
		for i := range a.kids {
			if !equal(&a.kids[i].val, &b.kids[i].val) {
				return false
			}
		}
		return true
	case kindObject:
		if len(a.kids) != len(b.kids) {
			return false
		}
		ix := newIndex(b.kids)
		for i := range a.kids {
			j := ix.find(a.kids[i].key)
			if j < 0 || !equal(&a.kids[i].val, &b.kids[j].val) {
				return false
			}
		}
		return true
	}
	return true
}

// depth is the number of nested containers in v, v included: 0 for a leaf,
// 1 for {"a":1}, 2 for {"a":{"b":1}} or {"a":[1]}.
func depth(v *value) int {
	if !v.isContainer() {
		return 0
	}
	d := 0
	for i := range v.kids {
		if k := depth(&v.kids[i].val); k > d {
			d = k
		}
	}
	return d + 1
}

// stringBytes is the number of bytes of keys, strings and numbers in v: what
// a copy of v needs in an arena.
func stringBytes(v *value) int {
	n := len(v.str)
	for i := range v.kids {
		n += len(v.kids[i].key) + stringBytes(&v.kids[i].val)
	}
	return n
}
