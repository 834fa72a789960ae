package fleetquery

import (
	"errors"
	"strings"
	"testing"
)

var lamp = MapDoc{
	"thingName":          {"lamp-1"},
	"thingId":            {"0b5c"},
	"thingTypeName":      {"Lamp"},
	"thingGroupNames":    {"kitchen", "floor-1"},
	"attributes.color":   {"red"},
	"attributes.temp":    {"65.5"},
	"attributes.serial":  {"a b"},
	"attributes.version": {"v2"},
}

// TestQuery_Match checks each construct of the subset against one thing.
func TestQuery_Match(t *testing.T) {
	cases := []struct {
		q    string
		want bool
	}{
		{"thingName:lamp-1", true},
		{"thingName:lamp*", true},
		{"thingName:lamp", false},
		{"thingName:l?mp-?", true},
		{"thingName:*", true},
		{"thingTypeName:Lamp", true},
		{"thingTypeName:lamp", false}, // case-sensitive
		{"attributes.color:red", true},
		{"attributes.color:*", true},
		{"attributes.missing:*", false},
		{"attributes.temp>60", true},
		{"attributes.temp>=65.5", true},
		{"attributes.temp<65.5", false},
		{"attributes.temp<=65.5", true},
		{"attributes.color>1", false}, // not a number
		{"attributes.temp:[60 TO 70]", true},
		{"attributes.temp:[66 TO *]", false},
		{"attributes.temp:[* TO 66]", true},
		{"attributes.version:[v1 TO v3]", true}, // byte-wise
		{"thingGroupNames:kitchen", true},
		{"thingGroupNames:floor*", true},
		{"thingGroupNames:garage", false},
		{`attributes.serial:"a b"`, true},
		{`thingName:"lamp*"`, false}, // quoted: no wildcard
		{"thingName:lamp* AND attributes.color:red", true},
		{"thingName:lamp* AND attributes.color:blue", false},
		{"attributes.color:blue OR attributes.color:red", true},
		{"NOT attributes.color:blue", true},
		{"NOT (attributes.color:blue OR thingName:lamp-1)", false},
		{"attributes.color:blue OR attributes.color:red AND thingName:x", false}, // AND binds tighter
		{"(attributes.color:blue OR attributes.color:red) AND thingName:lamp-1", true},
	}
	for _, c := range cases {
		q, err := Parse(c.q, Things)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := q.Match(lamp); got != c.want {
			t.Errorf("%q matched %v, want %v", c.q, got, c.want)
		}
	}
}

// TestParse_errors checks that bad queries fail with a position.
func TestParse_errors(t *testing.T) {
	cases := map[string]string{
		"":                               "empty",
		"lamp":                           "not a term",
		"thingName:":                     "missing value",
		"thingName:a thingName:b":        "join terms",
		"thingName:a AND":                "expected a term",
		"(thingName:a":                   "expected )",
		"thingName:a)":                   "expected AND, OR",
		"shadow.reported.x:1":            "not a field",
		"attributes.:x":                  "not a field",
		"thingGroupName:x":               "not a field",
		"attributes.t>abc":               "needs a number",
		"attributes.t:[1 TO":             "unterminated range",
		"attributes.t:[1 2]":             "a range is",
		`thingName:"abc`:                 "unterminated",
		"thingName:a~":                   "not supported",
		"thingName=a":                    "unexpected",
		strings.Repeat("(", 40) + "a:b":  "deeper",
		strings.Repeat("NOT ", 40) + "x": "deeper",
	}
	for q, want := range cases {
		_, err := Parse(q, Things)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q) = %v, want an *Error", q, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", q, err, want)
		}
	}
}

// TestParse_groupsIndex checks the fields of the ThingGroups index.
func TestParse_groupsIndex(t *testing.T) {
	q, err := Parse("parentGroupNames:building AND thingGroupDescription:*", ThingGroups)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Match(MapDoc{"parentGroupNames": {"site", "building"}, "thingGroupDescription": {"d"}}) {
		t.Error("no match")
	}
	if q.Uses("thingGroupNames") || !q.Uses("parentGroupNames") {
		t.Error("Uses is wrong")
	}
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*b*c", "aXbYc", true}, {"a*b", "ab", true}, {"a*b", "a", false},
		{"*a*a*a*a*b", strings.Repeat("a", 60), false}, {"?", "", false},
	} {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// FuzzParse checks that no query panics the parser or the evaluator and
// that every failure is an *Error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"thingName:lamp*", "attributes.temp>60 AND NOT thingGroupNames:g", "attributes.t:[1 TO 2]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, idx := range []Index{Things, ThingGroups} {
			q, err := Parse(s, idx)
			if err != nil {
				var qe *Error
				if !errors.As(err, &qe) {
					t.Fatalf("Parse(%q): %T %v", s, err, err)
				}
				continue
			}
			q.Match(lamp)
			q.Match(MapDoc{})
		}
	})
}
