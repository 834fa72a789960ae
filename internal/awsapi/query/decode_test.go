package query

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

type tag struct {
	Key   string `query:"Key,required"`
	Value string `query:"Value,required"`
}

type descriptor struct {
	Arn string `query:"arn"`
}

type nested struct {
	Name  string `query:"Name"`
	Count *int   `query:"Count"`
}

type sample struct {
	UserName   string            `query:"UserName,required"`
	Path       *string           `query:"Path"`
	MaxItems   *int              `query:"MaxItems"`
	Size       int64             `query:"Size"`
	Small      int32             `query:"Small"`
	SetDefault bool              `query:"SetAsDefault"`
	Only       *bool             `query:"OnlyAttached"`
	Tags       []tag             `query:"Tags"`
	Keys       []string          `query:"TagKeys"`
	Arns       []descriptor      `query:"PolicyArns"`
	Attrs      map[string]string `query:"Attributes"`
	Inner      *nested           `query:"Inner"`
	Plain      nested            `query:"Plain"`
	Untagged   string
	Skipped    string `query:"-"`
}

func decode(t *testing.T, body string) (sample, error) {
	t.Helper()
	f, err := ParseForm([]byte(body))
	if err != nil {
		t.Fatalf("ParseForm: %v", err)
	}
	var s sample
	err = f.Decode(&s)
	return s, err
}

// TestForm_Decode fills every supported kind of member.
func TestForm_Decode(t *testing.T) {
	s, err := decode(t, strings.Join([]string{
		"Action=X", "UserName=alice", "Path=%2F", "MaxItems=0", "Size=-9000000000", "Small=7",
		"SetAsDefault=TRUE", "OnlyAttached=false",
		"Tags.member.2.Key=b", "Tags.member.2.Value=", "Tags.member.1.Key=a", "Tags.member.1.Value=1",
		"Tags.member.10.Key=c", "Tags.member.10.Value=3",
		"TagKeys.member.1=x", "TagKeys.member.2=y",
		"PolicyArns.member.1.arn=arn%3Aaws",
		"Attributes.entry.1.key=k1", "Attributes.entry.1.value=v1", "Attributes.entry.2.key=k2", "Attributes.entry.2.value=",
		"Inner.Name=in", "Inner.Count=3", "Untagged=no", "Skipped=no", "Unknown.member.1=ignored",
	}, "&"))
	if err != nil {
		t.Fatal(err)
	}
	zero, three := 0, 3
	no := false
	root := "/"
	want := sample{UserName: "alice", Path: &root, MaxItems: &zero, Size: -9000000000, Small: 7, SetDefault: true, Only: &no,
		Tags:  []tag{{"a", "1"}, {"b", ""}, {"c", "3"}},
		Keys:  []string{"x", "y"},
		Arns:  []descriptor{{"arn:aws"}},
		Attrs: map[string]string{"k1": "v1", "k2": ""},
		Inner: &nested{Name: "in", Count: &three},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", s, want)
	}
}

// TestForm_DecodeAbsent leaves absent members at nil, so that "absent"
// and "zero" differ, and reads "X=" as an empty list.
func TestForm_DecodeAbsent(t *testing.T) {
	s, err := decode(t, "UserName=a&Tags=")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != nil || s.MaxItems != nil || s.Only != nil || s.Inner != nil || s.Keys != nil || s.Attrs != nil {
		t.Fatalf("absent members were set: %+v", s)
	}
	if s.Tags == nil || len(s.Tags) != 0 {
		t.Fatalf("Tags= gave %#v, want an empty list", s.Tags)
	}
}

// TestForm_DecodeErrors refuses malformed members with a ValidationError
// naming the member.
func TestForm_DecodeErrors(t *testing.T) {
	tests := map[string]struct{ body, mention string }{
		"missing required":         {"Path=%2F", "'UserName'"},
		"missing required in list": {"UserName=a&Tags.member.1.Key=k", "'Tags.member.1.Value'"},
		"element without members":  {"UserName=a&Tags.member.1.Bogus=k", "'Tags.member.1.Key'"},
		"scalar list bad element":  {"UserName=a&TagKeys.member.1.x=y", "'TagKeys.member.1'"},
		"index zero":               {"UserName=a&TagKeys.member.0=x", "TagKeys.member.0"},
		"index leading zero":       {"UserName=a&TagKeys.member.01=x", "TagKeys.member.01"},
		"index not a number":       {"UserName=a&Tags.member.x.Key=k", "Tags.member.x.Key"},
		"index too large":          {"UserName=a&TagKeys.member.1001=x", "TagKeys.member.1001"},
		"list with a value":        {"UserName=a&Tags=x", "'Tags'"},
		"integer":                  {"UserName=a&MaxItems=ten", "'MaxItems'"},
		"integer overflow":         {"UserName=a&Small=3000000000", "'Small'"},
		"boolean":                  {"UserName=a&SetAsDefault=yes", "'SetAsDefault'"},
		"map entry without value":  {"UserName=a&Attributes.entry.1.key=k", "'Attributes.entry.1.value'"},
		"map entry without key":    {"UserName=a&Attributes.entry.1.value=v", "'Attributes.entry.1.key'"},
		"map duplicate key":        {"UserName=a&Attributes.entry.1.key=k&Attributes.entry.1.value=1&Attributes.entry.2.key=k&Attributes.entry.2.value=2", "unique"},
		"nested integer":           {"UserName=a&Inner.Count=x", "'Inner.Count'"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decode(t, tc.body)
			wantCode(t, err, ValidationError, http.StatusBadRequest)
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not name %s", err, tc.mention)
			}
		})
	}
}

// TestForm_DecodePanics: a non-struct target and an unsupported field
// type are programming errors.
func TestForm_DecodePanics(t *testing.T) {
	f, _ := ParseForm([]byte("A=1"))
	for name, v := range map[string]any{
		"not a pointer":  sample{},
		"pointer to int": new(int),
		"unsupported type": &struct {
			A float64 `query:"A"`
		}{},
		"map of ints": &struct {
			A map[string]int `query:"A"`
		}{},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			_ = f.Decode(v)
		})
	}
}
