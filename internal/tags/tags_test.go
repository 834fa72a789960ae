package tags

import (
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/awsapi"
)

// TestCheckKey checks the key rules: 1 to 128 characters of
// [\p{L}\p{Z}\p{N}_.:/=+\-@], not starting with aws: in any case.
func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"env", true},
		{"cost center", true},            // \p{Z}
		{"ünïcode-Ω_9.:/=+@", true},      // letters, numbers, the punctuation allowed
		{"٣", true},                      // a non-ASCII digit (\p{N})
		{strings.Repeat("k", 128), true}, // the longest
		{strings.Repeat("é", 128), true}, // characters, not bytes
		{"", false},
		{strings.Repeat("k", 129), false},
		{"a*b", false},
		{"tab\there", false},
		{"aws:x", false},
		{"AwS:x", false},
		{"aws", true}, // only the prefix with its colon is reserved
		{"awsx:y", true},
	}
	for _, tt := range tests {
		err := CheckKey("k", tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && !awsapi.Is(err, awsapi.InvalidRequest) {
			t.Errorf("CheckKey(%q) = %v, want InvalidRequestException", tt.key, err)
		}
	}
}

// TestCheck checks a tag list: values up to 256 characters, no key twice,
// at most 50 tags.
func TestCheck(t *testing.T) {
	many := make([]Tag, 51)
	for i := range many {
		many[i] = Tag{Key: strings.Repeat("k", i+1)}
	}
	tests := map[string]struct {
		tags []Tag
		ok   bool
	}{
		"none":          {nil, true},
		"longest value": {[]Tag{{"k", strings.Repeat("v", 256)}}, true},
		"empty value":   {[]Tag{{"k", ""}}, true},
		"long value":    {[]Tag{{"k", strings.Repeat("v", 257)}}, false},
		"twice":         {[]Tag{{"k", "a"}, {"k", "b"}}, false},
		"50":            {many[:50], true},
		"51":            {many, false},
	}
	for name, tt := range tests {
		m, err := Check("tags", tt.tags)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Check = %v, want ok=%v", name, err, tt.ok)
		}
		if err == nil && len(m) != len(tt.tags) {
			t.Errorf("%s: %d tags in the map, want %d", name, len(m), len(tt.tags))
		}
	}
}

// TestSorted checks the list order is by key.
func TestSorted(t *testing.T) {
	got := Sorted(map[string]string{"b": "2", "a": "1", "c": "3"})
	if len(got) != 3 || got[0].Key != "a" || got[1].Key != "b" || got[2].Key != "c" || got[0].Value != "1" {
		t.Fatalf("Sorted = %v", got)
	}
}
