// Package topic implements MQTT topic names, topic filters and a
// subscription trie for the broker, with AWS IoT Core's limits and matching
// differences as options. It is a leaf package: no server state, stdlib only.
//
// # Names and filters
//
// A topic name is what a PUBLISH carries ("sensor/1/temp"); a topic filter is
// what a SUBSCRIBE carries and may contain wildcards ("sensor/+/temp",
// "sensor/#"). Both are split into levels by '/'. Empty levels are real
// levels: "a//b" has three, "/a" starts with an empty level and "a/" ends
// with one, and none of them equals "a/b" or "a". Nothing is normalised:
// comparison is byte for byte [MQTT-4.7.3-4].
//
//   - '+' matches exactly one level, which may be empty, and must occupy a
//     whole level of the filter [MQTT-4.7.1-2].
//   - '#' matches all remaining levels, must be a whole level and the last
//     one [MQTT-4.7.1-1]. By the MQTT specification it also matches the
//     parent: "a/#" matches "a". AWS IoT does not (Options.ParentMatch).
//   - A filter whose first character is '+' or '#' matches no name whose
//     first character is '$' [MQTT-4.7.2-1]: "#" does not see "$SYS/..." or
//     "$aws/...", "$aws/things/+/shadow/#" does.
//   - A filter "$share/{ShareName}/{filter}" is a shared subscription
//     (MQTT 5 §4.8.2): each message matching {filter} goes to one member of
//     the group. ParseShared splits it.
//
// Clause numbers in comments are MQTT 5.0's; where MQTT 3.1.1 numbers the
// same rule differently, errors.go gives both.
//
// # Validation
//
// ValidateName and ValidateFilter apply the MQTT rules and a Limits value
// (AWSLimits: 256 bytes, 8 levels; the zero Limits means none). The AWS
// Basic Ingest prefix "$aws/rules/{rule}/" of a name and the
// "$share/{ShareName}/" prefix of a filter do not count toward the limits.
// Errors are *Error values carrying a Kind; every one matches
// ErrInvalidName (MQTT 5 reason code 0x90) or ErrInvalidFilter (0x8F) with
// errors.Is. Validation allocates only on failure.
//
// # Matching
//
// Match(filter, topic) compares one filter with one name without
// allocating; Options.Match does the same with AWS's parent rule. The
// broker uses it where it has a name and a few filters, for example retained
// messages on SUBSCRIBE.
//
// A Trie holds every subscription of a node, keyed by filter and by a key
// of the caller's choosing (a session), each with a value (QoS, options,
// subscription identifier):
//
//	subs := topic.NewTrie[*session, subOpts](topic.AWSOptions())
//	existed, err := subs.Insert("$aws/things/t1/shadow/#", sess, subOpts{QoS: 1})
//	...
//	var r topic.Result[*session, subOpts] // reuse per goroutine
//	subs.Match("$aws/things/t1/shadow/update", &r)
//	for _, s := range r.Subs { deliver(s.Key, s.Value) }
//	for _, g := range r.Groups { s := g.Pick(); deliver(s.Key, s.Value) }
//
// Insert with a key already subscribed to the same filter replaces its
// value. Remove takes the same filter string. Match walks only the levels
// of the topic (literal child, '+' child, '#' child at each level), so its
// cost depends on the topic's depth and the number of results, not on the
// number of subscriptions; with a reused Result it does not allocate.
//
// # Concurrency
//
// All Trie methods are safe for concurrent use: a sync.RWMutex lets many
// Match calls run together while Insert and Remove take turns. See Trie.
//
// # What the broker still decides
//
// This package does not authorise (policy does), does not forbid publishing
// to "$" topics or subscribing to Basic Ingest topics, does not deduplicate
// overlapping subscriptions of one client, and does not apply the MQTT 5
// No Local rule (forbidden on shared subscriptions, [MQTT-3.8.3-4]); the
// Result gives it what it needs for each.
package topic
