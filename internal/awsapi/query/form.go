// Package query is the awsQuery protocol that AWS's IAM and STS APIs
// speak: requests are POST / with an application/x-www-form-urlencoded
// body naming an Action, a Version and the operation's members; answers
// are XML documents, and errors an <ErrorResponse>.
//
// Members are flattened into form keys (AWS "Query API" serialization,
// which the SDKs' awsQuery serializers follow):
//
//	UserName=alice                      a scalar
//	Tags.member.1.Key=team              a list of structures
//	Tags.member.1.Value=lamps
//	PolicyArns.member.2.arn=arn:...     (indexes start at 1)
//	Tags=                               an empty list
//	Attributes.entry.1.key=k            a map
//	Attributes.entry.1.value=v
//
// ParseForm reads a body strictly (bad percent-encoding, invalid UTF-8, a
// key given twice, too many fields: MalformedQueryString); Form.Decode
// fills a struct from the fields named by its `query` tags and ignores
// the rest, as AWS ignores parameters it does not know. A member of the
// wrong type, a malformed list index or a missing required member is a
// ValidationError. Write and WriteError encode answers and errors.
package query

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a form body. AWS's own limits are larger than any valid IAM
// or STS request needs; these bound the work an untrusted body can cause.
const (
	// MaxFields is the most key=value pairs a body may hold. The largest
	// valid IAM request (CreateUser with 50 tags) has about 105.
	MaxFields = 1000
	// MaxKeyLen is the longest key, in bytes after unescaping.
	MaxKeyLen = 256
	// MaxListLen is the largest list index (member.N) or map entry index
	// (entry.N) accepted.
	MaxListLen = 1000
)

// Form is a parsed awsQuery request.
type Form struct {
	// Action and Version are the operation and the API version named by
	// the request ("" when absent).
	Action, Version string
	fields          map[string]string
}

// ParseForm parses an application/x-www-form-urlencoded body. Empty
// segments ("a=1&&b=2") are skipped and a segment without '=' is a key
// with an empty value, as net/url reads them. Every other irregularity is
// a MalformedQueryString error that changes nothing.
func ParseForm(body []byte) (*Form, error) {
	f := &Form{fields: make(map[string]string)}
	n := 0
	for s := string(body); s != ""; {
		var seg string
		seg, s, _ = strings.Cut(s, "&")
		if seg == "" {
			continue
		}
		if n++; n > MaxFields {
			return nil, Errorf(MalformedQueryString, "The request has more than %d parameters.", MaxFields)
		}
		rawKey, rawVal, _ := strings.Cut(seg, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, Errorf(MalformedQueryString, "Parameter %d has a malformed percent-encoding in its name.", n)
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, Errorf(MalformedQueryString, "Parameter %s has a malformed percent-encoding in its value.", quoteKey(key))
		}
		switch {
		case key == "":
			return nil, Errorf(MalformedQueryString, "Parameter %d has an empty name.", n)
		case len(key) > MaxKeyLen:
			return nil, Errorf(MalformedQueryString, "Parameter %d has a name longer than %d bytes.", n, MaxKeyLen)
		case !utf8.ValidString(key) || !utf8.ValidString(val):
			return nil, Errorf(MalformedQueryString, "Parameter %s is not valid UTF-8.", quoteKey(key))
		}
		if _, dup := f.fields[key]; dup {
			return nil, Errorf(MalformedQueryString, "Parameter %s is given more than once.", quoteKey(key))
		}
		f.fields[key] = val
	}
	f.Action, f.Version = f.fields["Action"], f.fields["Version"]
	return f, nil
}

// Get returns the value of a field and whether it is present.
func (f *Form) Get(key string) (string, bool) {
	v, ok := f.fields[key]
	return v, ok
}

// Len is the number of fields, Action and Version included.
func (f *Form) Len() int { return len(f.fields) }

// quoteKey names a key in a message, shortened and quoted.
func quoteKey(k string) string {
	if len(k) > 64 {
		k = k[:64] + "..."
	}
	return strconv.Quote(k)
}
