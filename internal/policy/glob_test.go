package policy

import "testing"

// TestPattern_Match checks wildcard matching without variables.
func TestPattern_Match(t *testing.T) {
	tests := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"*", "a/b/c", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"abc", "abc", false, true},
		{"abc", "abd", false, false},
		{"abc", "ABC", false, false},
		{"abc", "ABC", true, true},
		{"a*", "a", false, true},
		{"a*", "ab/c", false, true},
		{"a*", "b", false, false},
		{"*c", "abc", false, true},
		{"*c", "abd", false, false},
		{"a*c", "ac", false, true},
		{"a*c", "a/x/c", false, true},
		{"a*c", "a/x/cd", false, false},
		{"a*b*c", "aXbYbZc", false, true},
		{"a*b*c", "aXbYbZ", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "aéc", false, true},
		{"a??c", "aéc", false, false},
		{"*?", "", false, false},
		{"*?", "é", false, true},
		{"a**b", "ab", false, true},
		{"a+b", "a+b", false, true},
		{"a+b", "axb", false, false},
		{"a/#", "a/b", false, false},
		{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"iot:*", "IOT:Publish", true, true},
		{"iot:?ublish", "iot:PUBLISH", true, true},
	}
	for _, tt := range tests {
		p := compilePattern([]segment{{text: tt.pat}}, true, nil)
		if got := p.match(tt.s, nil, tt.fold); got != tt.want {
			t.Errorf("%q ~ %q (fold %v) = %v, want %v", tt.pat, tt.s, tt.fold, got, tt.want)
		}
	}
}

// TestPattern_Variables checks that substituted values are literal and
// that escapes are not wildcards.
func TestPattern_Variables(t *testing.T) {
	segs, err := parseTemplate("t/${iot:ClientId}/${*}/*", true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	p := compilePattern(segs, true, func(n string) int { names = append(names, n); return len(names) - 1 })
	tests := []struct {
		val, s string
		want   bool
	}{
		{"c1", "t/c1/*/x", true},
		{"c1", "t/c1/x/x", false},
		{"c*", "t/c1/*/x", false},
		{"c*", "t/c*/*/x", true},
		{"", "t//*/", true},
	}
	for _, tt := range tests {
		if got := p.match(tt.s, []string{tt.val}, false); got != tt.want {
			t.Errorf("val %q ~ %q = %v, want %v", tt.val, tt.s, got, tt.want)
		}
	}
}

// TestSplitSegments checks ARN splitting outside variables.
func TestSplitSegments(t *testing.T) {
	segs, _ := parseTemplate("arn:aws:iot:${aws:Region}:1:topic/a:b", true)
	parts := splitSegments(segs, ':', arnParts)
	if len(parts) != 6 || !parts[3][0].isVar || parts[5][0].text != "topic/a:b" {
		t.Fatalf("got %+v", parts)
	}
}
