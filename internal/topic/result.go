package topic

import "strings"

// Result receives the subscriptions matching one topic name. Reuse one
// Result per goroutine (for example per connection or in a sync.Pool): once
// its slices have grown, Trie.Match allocates nothing.
type Result[K comparable, V any] struct {
	// Subs are the ordinary subscriptions whose filter matches, one per
	// (filter, key), in no particular order. A key appears more than once
	// when several of its filters match; the broker delivers once per
	// subscription or merges them (MQTT 5 §4.7.1.2, [MQTT-3.3.4-2]).
	Subs []Sub[K, V]

	// Groups are the shared subscription groups whose filter matches.
	// Each gets the message once: the broker picks one member per group
	// (Group.Pick, or Group.Next to skip members that cannot take it).
	Groups []Group[K, V]
}

// Reset empties r, keeping its capacity. It clears the used entries so a
// reused Result does not keep sessions alive.
func (r *Result[K, V]) Reset() {
	clear(r.Subs)
	clear(r.Groups)
	r.Subs, r.Groups = r.Subs[:0], r.Groups[:0]
}

// Group is a shared subscription group that matched a topic.
type Group[K comparable, V any] struct {
	Name    string      // the ShareName
	Members []Sub[K, V] // never empty; a snapshot, read-only: do not modify
	g       *group[K, V]
}

// Next returns the index in Members to try first, advancing the group's
// round-robin counter (shared by all Match calls on this group). A broker
// that finds that member unable to take the message tries
// (Next()+1) % len(Members) and so on.
func (g Group[K, V]) Next() int {
	return int((g.g.next.Add(1) - 1) % uint32(len(g.Members)))
}

// Pick returns the next member in round-robin order.
func (g Group[K, V]) Pick() Sub[K, V] { return g.Members[g.Next()] }

// Match fills r (after resetting it) with the subscriptions whose filter
// matches topic, a valid topic name (see ValidateName; a name containing
// wildcards is matched as literal text). It takes the read lock for the
// walk; Sub values are copied into r, shared group member lists are
// immutable snapshots. It allocates only to grow r.
func (t *Trie[K, V]) Match(topic string, r *Result[K, V]) {
	r.Reset()
	if topic == "" {
		return
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.match(&t.root, topic, topic[0] == '$', r)
}

// match collects the subscriptions below n that match topic, the rest of
// the topic name from the start of a level. dollar is set at the root for a
// topic starting with '$', which wildcards there must not match
// [MQTT-4.7.2-1]. The caller holds t.mu for reading.
func (t *Trie[K, V]) match(n *node[K, V], topic string, dollar bool, r *Result[K, V]) {
	for {
		level, rest, more := strings.Cut(topic, "/")
		if !dollar {
			if n.hash != nil {
				r.collect(n.hash) // '#' takes this level and all below
			}
			if p := n.plus; p != nil {
				if more {
					t.match(p, rest, false, r)
				} else {
					r.collect(p)
					if t.parentMatch && p.hash != nil {
						r.collect(p.hash)
					}
				}
			}
		}
		dollar = false
		c := n.lookup(level)
		if c == nil {
			return
		}
		if !more {
			r.collect(c)
			if t.parentMatch && c.hash != nil {
				r.collect(c.hash) // "a/#" matches "a"
			}
			return
		}
		n, topic = c, rest
	}
}

// collect appends the subscriptions held at n.
func (r *Result[K, V]) collect(n *node[K, V]) {
	r.Subs = append(r.Subs, n.subs...)
	if n.x != nil {
		for _, g := range n.x.groups {
			r.Groups = append(r.Groups, Group[K, V]{Name: g.name, Members: g.members, g: g})
		}
	}
}
