package query

import (
	"net/http"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/awsapi"
)

// wantCode asserts err is an *awsapi.Error with this code and status.
func wantCode(t *testing.T, err error, code Code, status int) {
	t.Helper()
	e, ok := err.(*awsapi.Error)
	if !ok {
		t.Fatalf("err = %T %v, want *awsapi.Error %s", err, err, code)
	}
	if e.Code != awsapi.Code(code) || e.HTTPStatus() != status {
		t.Fatalf("err = %s %d (%s), want %s %d", e.Code, e.HTTPStatus(), e.Message, code, status)
	}
}

// TestParseForm checks the fields of bodies the SDKs send.
func TestParseForm(t *testing.T) {
	f, err := ParseForm([]byte("Action=CreateUser&Path=%2Fops%2F&Tags.member.1.Key=team&Tags.member.1.Value=l+a%20mps&UserName=alice&Version=2010-05-08&&Empty"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Action != "CreateUser" || f.Version != "2010-05-08" || f.Len() != 7 {
		t.Fatalf("form = %+v", f)
	}
	for k, want := range map[string]string{"Path": "/ops/", "Tags.member.1.Value": "l a mps", "Empty": ""} {
		if v, ok := f.Get(k); !ok || v != want {
			t.Errorf("%s = %q, %v; want %q", k, v, ok, want)
		}
	}
	if _, ok := f.Get("Nope"); ok {
		t.Error("an absent field is present")
	}
}

// TestParseForm_Malformed refuses bodies that are not clean forms.
func TestParseForm_Malformed(t *testing.T) {
	tests := map[string]string{
		"bad escape in value": "Action=GetUser&UserName=%zz",
		"bad escape in key":   "Action=GetUser&User%4=a",
		"truncated escape":    "Action=GetUser&UserName=a%2",
		"duplicate key":       "Action=GetUser&UserName=a&UserName=b",
		"empty key":           "Action=GetUser&=a",
		"invalid UTF-8":       "Action=GetUser&UserName=%ff%fe",
		"long key":            "Action=GetUser&" + strings.Repeat("k", MaxKeyLen+1) + "=a",
		"too many fields":     strings.Repeat("a=b&", 0) + manyFields(MaxFields+1),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := ParseForm([]byte(body))
			if f != nil {
				t.Fatal("a form came back with the error")
			}
			wantCode(t, err, MalformedQueryString, http.StatusBadRequest)
		})
	}
	if _, err := ParseForm([]byte(manyFields(MaxFields))); err != nil {
		t.Fatalf("%d fields refused: %v", MaxFields, err)
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(itoa(i))
		b.WriteString("=v")
	}
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
