package topic

import "testing"

// matchCases are shared by the standalone Match and the Trie tests. spec is
// the answer with ParentMatch (MQTT), aws without (AWS IoT).
var matchCases = []struct {
	name          string
	filter, topic string
	spec, aws     bool
}{
	// Identical literal.
	{"literal", "a/b", "a/b", true, true},
	// Case-sensitive, no normalisation [MQTT-4.7.3-4].
	{"case", "a/B", "a/b", false, false},
	// A literal does not match a longer topic.
	{"literal prefix", "a", "a/b", false, false},
	// A literal does not match a shorter topic.
	{"literal longer", "a/b", "a", false, false},
	// Level boundaries matter: "ab" is not "a/b".
	{"no partial level", "a", "ab", false, false},
	// '#' matches everything non-$.
	{"hash all", "#", "a/b/c", true, true},
	// '#' matches a single level.
	{"hash one level", "#", "a", true, true},
	// '#' matches one level below.
	{"hash child", "a/#", "a/b", true, true},
	// '#' matches deep levels.
	{"hash deep", "a/#", "a/b/c/d", true, true},
	// '#' matches the parent in MQTT, not in AWS (reference §10.1).
	{"hash parent", "sensor/#", "sensor", true, false},
	// Parent match through '+'.
	{"plus hash parent", "+/#", "a", true, false},
	// Parent match is one level only.
	{"hash grandparent", "a/b/#", "a", false, false},
	// '#' matches an empty child level.
	{"hash empty child", "a/#", "a/", true, true},
	// '#' does not match a sibling.
	{"hash sibling", "a/#", "b/c", false, false},
	// '+' first.
	{"plus first", "+/b/c", "a/b/c", true, true},
	// '+' middle.
	{"plus middle", "a/+/c", "a/b/c", true, true},
	// '+' last.
	{"plus last", "a/b/+", "a/b/c", true, true},
	// '+' is one level, not two.
	{"plus one level", "a/+", "a/b/c", false, false},
	// '+' needs a level to be there.
	{"plus missing level", "a/+", "a", false, false},
	// '+' matches an empty level.
	{"plus empty last", "a/+", "a/", true, true},
	// '+' matches an empty first level.
	{"plus empty first", "+/a", "/a", true, true},
	// '+' matches an empty middle level.
	{"plus empty middle", "a/+/b", "a//b", true, true},
	// A lone '+' does not match two levels.
	{"plus vs leading slash", "+", "/a", false, false},
	// Two '+' match "/" (two empty levels).
	{"plus plus slash", "+/+", "/", true, true},
	// Every level a '+'.
	{"all plus", "+/+/+", "a/b/c", true, true},
	// Empty levels are literal levels.
	{"empty level literal", "a//b", "a//b", true, true},
	// "a//b" is not "a/b".
	{"empty level differs", "a/b", "a//b", false, false},
	// Leading slash literal.
	{"leading slash", "/a", "/a", true, true},
	// Leading slash vs none.
	{"leading slash differs", "/a", "a", false, false},
	// Trailing slash literal.
	{"trailing slash", "a/", "a/", true, true},
	// Trailing slash vs none.
	{"trailing slash differs", "a/", "a", false, false},
	// "/#" covers topics with an empty first level.
	{"slash hash", "/#", "/a", true, true},
	// [MQTT-4.7.2-1] '#' does not match $SYS.
	{"hash dollar", "#", "$SYS/load", false, false},
	// [MQTT-4.7.2-1] '+' first does not match $aws.
	{"plus dollar", "+/things/x", "$aws/things/x", false, false},
	// [MQTT-4.7.2-1] Even a lone '$'.
	{"hash bare dollar", "#", "$", false, false},
	// An explicit $ level matches.
	{"dollar literal", "$SYS/#", "$SYS/load", true, true},
	// Wildcards after a literal $ level are fine.
	{"dollar plus", "$aws/things/+/shadow/update", "$aws/things/x/shadow/update", true, true},
	// Parent match on a $ topic with a literal first level.
	{"dollar hash parent", "$SYS/#", "$SYS", true, false},
	// '$' below the first level is ordinary.
	{"dollar inner", "a/+", "a/$x", true, true},
	// '#' under '+' under '$' literal.
	{"dollar deep", "$aws/+/#", "$aws/events/presence/connected/c1", true, true},
	// A shared filter is matched as a literal by Match; use ParseShared.
	{"shared literal", "$share/g/a", "a", false, false},
	// UTF-8 levels compare byte for byte.
	{"utf8", "é/+", "é/x", true, true},
}

func TestMatch(t *testing.T) {
	for _, tt := range matchCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.filter, tt.topic); got != tt.spec {
				t.Fatalf("Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.spec)
			}
			if got := DefaultOptions().Match(tt.filter, tt.topic); got != tt.spec {
				t.Fatalf("DefaultOptions().Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.spec)
			}
			if got := AWSOptions().Match(tt.filter, tt.topic); got != tt.aws {
				t.Fatalf("AWSOptions().Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.aws)
			}
		})
	}
}

func TestMatch_NoAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		Match("$aws/things/+/shadow/#", "$aws/things/thing-1/shadow/update/accepted")
	})
	// Match never allocates.
	if n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}
