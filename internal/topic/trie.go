package topic

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Tuning. maxKids is how many literal children a node keeps in a slice
// (linear scan, 24 bytes each) before it switches to a map; maxLinearSubs is
// how many subscriptions a node holds before it adds a key index. Small
// slices keep the common case, one device per topic path, compact.
const (
	maxKids       = 8
	maxLinearSubs = 16
)

// Sub is one subscription: who (Key) and how (Value), for example a session
// pointer and {QoS, options, subscription identifier}.
type Sub[K comparable, V any] struct {
	Key   K
	Value V
}

// Trie is a subscription index: it maps topic filters to subscriptions and
// finds all subscriptions matching a topic name. Create it with NewTrie.
//
// Each (filter, key) pair is at most one subscription; subscribing again
// replaces its value (MQTT 5 §3.8.4: a repeated SUBSCRIBE replaces the
// subscription). A shared filter $share/{ShareName}/{filter} adds the key to
// the group {ShareName} of that filter; (ShareName, filter) identifies a
// group, so "$share/g/a/+" and "$share/g/a/#" are two groups.
//
// Concurrency: a Trie is safe for concurrent use. One sync.RWMutex guards the
// tree: Match holds the read lock while it walks and copies the results out;
// Insert and Remove hold the write lock. Match is read-mostly and many can run
// at once; a writer waits for the readers in flight and blocks new ones only
// for its own short update (one path of the tree). Copy-on-write of the whole
// tree was rejected: a node can have 100k children (one per device), so
// copying a path per subscribe would cost more than it saves. The member list
// of a shared group is copy-on-write, so Match hands it out without copying
// and it stays valid after the lock is released. No user code runs under the
// lock, and Trie calls nothing outside this package: it is a leaf in any
// lock order.
type Trie[K comparable, V any] struct {
	parentMatch bool // immutable after NewTrie

	mu      sync.RWMutex
	root    node[K, V] // guarded by mu
	subs    int        // guarded by mu: subscriptions, shared members included
	filters int        // guarded by mu: filters with at least one subscription
	nodes   int        // guarded by mu: nodes below the root
}

// node is one level of a filter. Its path from the root spells the filter.
type node[K comparable, V any] struct {
	kids   []child[K, V]          // literal children while there are few (linear scan)
	kidMap map[string]*node[K, V] // literal children once there are more than maxKids; then kids is nil
	plus   *node[K, V]            // the '+' child
	hash   *node[K, V]            // the '#' child: a leaf
	subs   []Sub[K, V]            // subscriptions whose filter ends here, in no order
	x      *extra[K, V]           // rarely needed parts
}

type child[K comparable, V any] struct {
	level string // owned copy, never a substring of a caller's string
	n     *node[K, V]
}

type extra[K comparable, V any] struct {
	index  map[K]int32    // key -> position in subs, once len(subs) > maxLinearSubs
	groups []*group[K, V] // shared subscription groups on this filter
}

// group is a shared subscription group.
type group[K comparable, V any] struct {
	name    string
	members []Sub[K, V] // copy-on-write: replaced, never changed in place
	next    atomic.Uint32
}

// NewTrie returns an empty trie. A nil opts means DefaultOptions.
func NewTrie[K comparable, V any](opts *Options) *Trie[K, V] {
	return &Trie[K, V]{parentMatch: opts == nil || opts.ParentMatch}
}

// Stats are counts of a trie's contents.
type Stats struct {
	Subscriptions int // (filter, key) pairs, shared group members included
	Filters       int // distinct filters with a subscription; each shared group counts once
	Nodes         int // tree nodes, for memory accounting
}

// Stats returns the current counts.
func (t *Trie[K, V]) Stats() Stats {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return Stats{Subscriptions: t.subs, Filters: t.filters, Nodes: t.nodes}
}

// Len returns the number of subscriptions.
func (t *Trie[K, V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.subs
}

// Insert subscribes key to filter with value. If key already subscribed to
// this exact filter, the value is replaced and existed is true (the broker
// needs this for MQTT 5 Retain Handling 1). The filter is validated without
// Limits (apply them with ValidateFilter first); an invalid one returns an
// error matching ErrInvalidFilter and changes nothing. The trie keeps copies
// of the filter's levels, never the filter string itself.
func (t *Trie[K, V]) Insert(filter string, key K, value V) (existed bool, err error) {
	if err := ValidateFilter(filter, Limits{}); err != nil {
		return false, err
	}
	name, f, shared, _ := ParseShared(filter)
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for {
		level, rest, more := strings.Cut(f, "/")
		n = t.step(n, level)
		if !more {
			break
		}
		f = rest
	}
	if shared {
		return t.addMember(n, name, Sub[K, V]{key, value}), nil
	}
	if len(n.subs) == 0 {
		t.filters++
	}
	existed = n.addSub(Sub[K, V]{key, value})
	if !existed {
		t.subs++
	}
	return existed, nil
}

// step returns n's child for level, creating it. The caller holds t.mu.
func (t *Trie[K, V]) step(n *node[K, V], level string) *node[K, V] {
	switch level {
	case "+":
		if n.plus == nil {
			n.plus = new(node[K, V])
			t.nodes++
		}
		return n.plus
	case "#":
		if n.hash == nil {
			n.hash = new(node[K, V])
			t.nodes++
		}
		return n.hash
	}
	if c := n.lookup(level); c != nil {
		return c
	}
	c := new(node[K, V])
	t.nodes++
	n.link(strings.Clone(level), c)
	return c
}

// lookup returns n's literal child for level, or nil.
func (n *node[K, V]) lookup(level string) *node[K, V] {
	if n.kidMap != nil {
		return n.kidMap[level]
	}
	for i := range n.kids {
		if n.kids[i].level == level {
			return n.kids[i].n
		}
	}
	return nil
}

// link adds the literal child c for level, switching to a map past maxKids.
func (n *node[K, V]) link(level string, c *node[K, V]) {
	if n.kidMap == nil && len(n.kids) < maxKids {
		n.kids = append(n.kids, child[K, V]{level, c})
		return
	}
	if n.kidMap == nil {
		n.kidMap = make(map[string]*node[K, V], 2*maxKids)
		for _, k := range n.kids {
			n.kidMap[k.level] = k.n
		}
		n.kids = nil
	}
	n.kidMap[level] = c
}

// unlink removes the literal child for level, going back from a map to a
// slice when few children are left.
func (n *node[K, V]) unlink(level string) {
	if n.kidMap != nil {
		delete(n.kidMap, level)
		if len(n.kidMap) <= maxKids/2 {
			kids := make([]child[K, V], 0, len(n.kidMap))
			for l, c := range n.kidMap {
				kids = append(kids, child[K, V]{l, c})
			}
			n.kids, n.kidMap = kids, nil
		}
	} else {
		for i := range n.kids {
			if n.kids[i].level == level {
				last := len(n.kids) - 1
				n.kids[i] = n.kids[last]
				n.kids[last] = child[K, V]{}
				n.kids = n.kids[:last]
				break
			}
		}
	}
	if len(n.kids) == 0 {
		n.kids = nil
	}
}

// empty reports whether n holds nothing and can be unlinked.
func (n *node[K, V]) empty() bool {
	return len(n.subs) == 0 && n.x == nil && n.plus == nil && n.hash == nil &&
		len(n.kids) == 0 && n.kidMap == nil
}

// find returns the position of key in n.subs, or -1.
func (n *node[K, V]) find(key K) int {
	if n.x != nil && n.x.index != nil {
		if i, ok := n.x.index[key]; ok {
			return int(i)
		}
		return -1
	}
	for i := range n.subs {
		if n.subs[i].Key == key {
			return i
		}
	}
	return -1
}

// addSub adds or replaces s and reports whether s.Key was there already.
func (n *node[K, V]) addSub(s Sub[K, V]) (existed bool) {
	if i := n.find(s.Key); i >= 0 {
		n.subs[i].Value = s.Value
		return true
	}
	n.subs = append(n.subs, s)
	switch {
	case n.x != nil && n.x.index != nil:
		n.x.index[s.Key] = int32(len(n.subs) - 1)
	case len(n.subs) > maxLinearSubs:
		if n.x == nil {
			n.x = new(extra[K, V])
		}
		n.x.index = make(map[K]int32, len(n.subs))
		for i := range n.subs {
			n.x.index[n.subs[i].Key] = int32(i)
		}
	}
	return false
}

// removeSub removes key's subscription and reports whether there was one.
func (n *node[K, V]) removeSub(key K) bool {
	i := n.find(key)
	if i < 0 {
		return false
	}
	last := len(n.subs) - 1
	if i != last {
		n.subs[i] = n.subs[last]
		if n.x != nil && n.x.index != nil {
			n.x.index[n.subs[i].Key] = int32(i)
		}
	}
	n.subs[last] = Sub[K, V]{} // drop references for the GC
	n.subs = n.subs[:last]
	if n.x != nil && n.x.index != nil {
		delete(n.x.index, key)
		if len(n.subs) <= maxLinearSubs/2 {
			n.x.index = nil
			n.tidy()
		}
	}
	switch {
	case len(n.subs) == 0:
		n.subs = nil
	case cap(n.subs) > 64 && len(n.subs) < cap(n.subs)/4:
		n.subs = append([]Sub[K, V](nil), n.subs...)
	}
	return true
}

// tidy drops n.x when it holds nothing.
func (n *node[K, V]) tidy() {
	if n.x != nil && n.x.index == nil && len(n.x.groups) == 0 {
		n.x = nil
	}
}

// addMember adds or replaces s in the shared group name of node n and
// reports whether s.Key was a member already. The caller holds t.mu.
func (t *Trie[K, V]) addMember(n *node[K, V], name string, s Sub[K, V]) (existed bool) {
	if n.x == nil {
		n.x = new(extra[K, V])
	}
	var g *group[K, V]
	for _, h := range n.x.groups {
		if h.name == name {
			g = h
			break
		}
	}
	if g == nil {
		g = &group[K, V]{name: strings.Clone(name)}
		n.x.groups = append(n.x.groups, g)
		t.filters++
	}
	// Copy on write: Match may have handed out the old slice.
	members := make([]Sub[K, V], len(g.members), len(g.members)+1)
	copy(members, g.members)
	for i := range members {
		if members[i].Key == s.Key {
			members[i].Value = s.Value
			g.members = members
			return true
		}
	}
	g.members = append(members, s)
	t.subs++
	return false
}

// removeMember removes key from the shared group name of node n and reports
// whether it was a member. The caller holds t.mu.
func (t *Trie[K, V]) removeMember(n *node[K, V], name string, key K) bool {
	if n.x == nil {
		return false
	}
	for gi, g := range n.x.groups {
		if g.name != name {
			continue
		}
		for i := range g.members {
			if g.members[i].Key != key {
				continue
			}
			t.subs--
			if len(g.members) == 1 {
				t.filters--
				last := len(n.x.groups) - 1
				n.x.groups[gi] = n.x.groups[last]
				n.x.groups[last] = nil
				n.x.groups = n.x.groups[:last]
				n.tidy()
				return true
			}
			members := make([]Sub[K, V], 0, len(g.members)-1)
			members = append(members, g.members[:i]...)
			g.members = append(members, g.members[i+1:]...)
			return true
		}
		return false
	}
	return false
}

// Remove unsubscribes key from filter (shared filters included) and reports
// whether it was subscribed. Nodes left empty are freed. An invalid filter
// was never inserted, so it returns false.
func (t *Trie[K, V]) Remove(filter string, key K) bool {
	name, f, shared, err := ParseShared(filter)
	if err != nil || f == "" {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.remove(&t.root, f, shared, name, key)
}

// remove walks the rest f of the filter below n, removes the subscription
// and unlinks the nodes it leaves empty on the way back. The caller holds
// t.mu.
func (t *Trie[K, V]) remove(n *node[K, V], f string, shared bool, name string, key K) bool {
	level, rest, more := strings.Cut(f, "/")
	var c *node[K, V]
	switch level {
	case "+":
		c = n.plus
	case "#":
		c = n.hash
	default:
		c = n.lookup(level)
	}
	if c == nil {
		return false
	}
	var removed bool
	switch {
	case more:
		removed = t.remove(c, rest, shared, name, key)
	case shared:
		removed = t.removeMember(c, name, key)
	default:
		removed = c.removeSub(key)
		if removed {
			t.subs--
			if len(c.subs) == 0 {
				t.filters--
			}
		}
	}
	if removed && c.empty() {
		switch level {
		case "+":
			n.plus = nil
		case "#":
			n.hash = nil
		default:
			n.unlink(level)
		}
		t.nodes--
	}
	return removed
}
