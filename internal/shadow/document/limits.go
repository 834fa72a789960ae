package document

import "fmt"

// AWS's limits for device shadows (AWS IoT Core quotas, "Device Shadow").
const (
	// DefaultMaxStateBytes is the size of a shadow's state: 8 KB.
	DefaultMaxStateBytes = 8192
	// DefaultMaxDepth is the nesting allowed in desired and reported:
	// "JSON contains too many levels of nesting; maximum is 6".
	DefaultMaxDepth = 6
	// DefaultMaxClientTokenBytes is the length of a clientToken: 64 bytes.
	DefaultMaxClientTokenBytes = 64
)

// Limits bounds what a request may send and what a shadow may hold. The zero
// value of a field means AWS's value (DefaultLimits); negative values are
// invalid (see Validate).
type Limits struct {
	// MaxStateBytes is the largest state, in bytes, of a request and of the
	// shadow an update leaves: the compact JSON of desired plus the compact
	// JSON of reported, metadata excluded (see Shadow.StateSize). Beyond it
	// an update is rejected with 413. Zero means 8192.
	MaxStateBytes int
	// MaxDepth is the number of nested levels allowed in desired and in
	// reported, the section itself counting as the first: with 6,
	// {"desired":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}} is the deepest
	// accepted. Arrays count as levels like objects. Zero means 6.
	MaxDepth int
	// MaxClientTokenBytes is the longest clientToken, in bytes of UTF-8.
	// Zero means 64.
	MaxClientTokenBytes int
}

// DefaultLimits returns AWS's limits.
func DefaultLimits() Limits {
	return Limits{
		MaxStateBytes:       DefaultMaxStateBytes,
		MaxDepth:            DefaultMaxDepth,
		MaxClientTokenBytes: DefaultMaxClientTokenBytes,
	}
}

// Validate reports a negative limit.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxStateBytes", l.MaxStateBytes},
		{"MaxDepth", l.MaxDepth},
		{"MaxClientTokenBytes", l.MaxClientTokenBytes},
	} {
		if f.v < 0 {
			return fmt.Errorf("shadow limits: %s is %d, want 0 (default) or more", f.name, f.v)
		}
	}
	return nil
}

// withDefaults replaces zero (and, defensively, negative) fields by AWS's
// values.
func (l Limits) withDefaults() Limits {
	if l.MaxStateBytes <= 0 {
		l.MaxStateBytes = DefaultMaxStateBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxClientTokenBytes <= 0 {
		l.MaxClientTokenBytes = DefaultMaxClientTokenBytes
	}
	return l
}
