package query

import (
	"maps"
	"net/url"
	"testing"
)

// FuzzDecode: ParseForm and Decode never panic on any body; a body that
// parses re-encodes to one that parses to the same fields; lists never
// exceed MaxListLen. Seeds: testdata/fuzz/FuzzDecode (bodies the SDKs
// send for IAM and STS, and malformed ones).
func FuzzDecode(f *testing.F) {
	f.Add([]byte("Action=CreateUser&Tags.member.1.Key=k&Tags.member.1.Value=v&UserName=alice&Version=2010-05-08"))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			return
		}
		if form.Len() > MaxFields {
			t.Fatalf("%d fields accepted", form.Len())
		}
		again, err := ParseForm([]byte(url.Values(toValues(form.fields)).Encode()))
		if err != nil {
			t.Fatalf("re-encoded form refused: %v", err)
		}
		if !maps.Equal(form.fields, again.fields) {
			t.Fatalf("round trip changed the fields:\n%v\n%v", form.fields, again.fields)
		}
		var s sample
		if err := form.Decode(&s); err != nil {
			return
		}
		if len(s.Tags) > MaxListLen || len(s.Keys) > MaxListLen || len(s.Arns) > MaxListLen || len(s.Attrs) > MaxListLen {
			t.Fatal("a list longer than MaxListLen was decoded")
		}
	})
}

func toValues(m map[string]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = []string{v}
	}
	return out
}
