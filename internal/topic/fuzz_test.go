package topic

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateFilter checks ValidateFilter against a plain split-based
// reference, and that every valid filter can be inserted and removed.
func FuzzValidateFilter(f *testing.F) {
	for _, s := range []string{"a/b", "#", "+/+/#", "a/#/b", "a+", "$share/g/a", "$share//a", "$share/g", "a//b", "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		err := ValidateFilter(filter, Limits{})
		if want := refValidFilter(filter); (err == nil) != want {
			t.Fatalf("ValidateFilter(%q) = %v, reference says valid=%v", filter, err, want)
		}
		if err != nil {
			e := err.(*Error)
			if e.Pos < -1 || e.Pos > len(filter) || !e.Filter {
				t.Fatalf("bad error %+v for %q", e, filter)
			}
			return
		}
		tr := NewTrie[int, int](nil)
		if existed, err := tr.Insert(filter, 1, 1); existed || err != nil {
			t.Fatalf("Insert(%q) = %v, %v", filter, existed, err)
		}
		if !tr.Remove(filter, 1) || tr.Stats() != (Stats{}) {
			t.Fatalf("Remove(%q) left %+v", filter, tr.Stats())
		}
	})
}

// refValidFilter is the MQTT filter rules written the obvious way.
func refValidFilter(filter string) bool {
	if filter == "" || !utf8.ValidString(filter) || strings.ContainsRune(filter, 0) {
		return false
	}
	if rest, ok := strings.CutPrefix(filter, SharePrefix); ok {
		name, inner, found := strings.Cut(rest, "/")
		if name == "" || strings.ContainsAny(name, "+#") || !found || inner == "" {
			return false
		}
		filter = inner
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return false
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return false
		}
	}
	return true
}

// FuzzMatch checks that Match, the Trie and a split-based reference agree on
// valid input, and that Match never panics on any input.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"a/#", "a"}, {"+/+", "/"}, {"#", "$SYS/x"}, {"$share/g/+", "a"},
		{"a/+/c", "a//c"}, {"sensor/#", "sensor"}, {"+", "$"}, {"a/b/#", "a/b/c/d"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		_ = Match(filter, topic) // any input: no panic
		if ValidateFilter(filter, Limits{}) != nil || ValidateName(topic, Limits{}) != nil {
			return
		}
		_, inner, shared, _ := ParseShared(filter)
		for _, parent := range []bool{true, false} {
			opts := &Options{ParentMatch: parent}
			want := refMatch(inner, topic, parent)
			if got := opts.Match(inner, topic); got != want {
				t.Fatalf("ParentMatch=%v: Match(%q, %q) = %v, reference %v", parent, inner, topic, got, want)
			}
			tr := NewTrie[int, int](opts)
			tr.Insert(filter, 1, 1)
			var r Result[int, int]
			tr.Match(topic, &r)
			got := len(r.Subs) == 1
			if shared {
				got = len(r.Groups) == 1
			}
			if got != want || len(r.Subs)+len(r.Groups) > 1 {
				t.Fatalf("ParentMatch=%v: trie with %q matched %q: %+v, want %v", parent, filter, topic, r, want)
			}
		}
	})
}

// refMatch is filter matching written the obvious way.
func refMatch(filter, topic string, parent bool) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, l := range fl {
		if l == "#" {
			return i < len(tl) || (parent && i == len(tl))
		}
		if i >= len(tl) || (l != "+" && l != tl[i]) {
			return false
		}
	}
	return len(fl) == len(tl)
}
