package policy

import (
	"encoding/json"
	"testing"
)

// condDecides evaluates a one-statement Allow whose only condition is
// {op: {"t:k": values}} against request values for t:k (nil: key absent).
func condDecides(t *testing.T, op string, values any, req []string) bool {
	t.Helper()
	cond, _ := json.Marshal(map[string]any{op: map[string]any{"t:k": values}})
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + string(cond) + `}}`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	c, err := Compile("p", "1", d)
	if err != nil {
		t.Fatal(err)
	}
	v := &Vars{ClientID: "c1"}
	if req != nil {
		v.Set("T:K", req...)
	}
	return Evaluate([]*Compiled{c}, &Request{Action: "iot:Publish", Resource: "*", Vars: v}).Allowed
}

// TestCondition_Operators checks each operator family, negation, IfExists
// and set qualifiers against IAM semantics.
func TestCondition_Operators(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		values any
		req    []string
		want   bool
	}{
		{"equals any of", "StringEquals", []string{"a", "b"}, []string{"b"}, true},
		{"equals none", "StringEquals", []string{"a", "b"}, []string{"c"}, false},
		{"equals absent", "StringEquals", "a", nil, false},
		{"equals ifexists absent", "StringEqualsIfExists", "a", nil, true},
		{"equals ifexists present", "StringEqualsIfExists", "a", []string{"b"}, false},
		{"not equals none", "StringNotEquals", []string{"a", "b"}, []string{"c"}, true},
		{"not equals one", "StringNotEquals", []string{"a", "b"}, []string{"a"}, false},
		{"not equals absent", "StringNotEquals", "a", nil, true},
		{"ignore case", "StringEqualsIgnoreCase", "ÄbC", []string{"äBc"}, true},
		{"not ignore case", "StringNotEqualsIgnoreCase", "abc", []string{"ABC"}, false},
		{"like", "StringLike", "a*z", []string{"a/b/z"}, true},
		{"like question", "StringLike", "a?", []string{"ab"}, true},
		{"not like", "StringNotLike", "a*", []string{"ba"}, true},
		{"equals star literal", "StringEquals", "a*", []string{"ab"}, false},
		{"equals escaped", "StringLike", "a${*}", []string{"a*"}, true},
		{"equals escaped not wildcard", "StringLike", "a${*}", []string{"ab"}, false},
		{"any value", "ForAnyValue:StringEquals", "a", []string{"x", "a"}, true},
		{"any value empty", "ForAnyValue:StringEquals", "a", []string{}, false},
		{"all values", "ForAllValues:StringEquals", []string{"a", "b"}, []string{"a", "b"}, true},
		{"all values one off", "ForAllValues:StringEquals", []string{"a", "b"}, []string{"a", "c"}, false},
		{"all values empty", "ForAllValues:StringEquals", "a", []string{}, true},
		{"all values not equals", "ForAllValues:StringNotEquals", []string{"a"}, []string{"b", "c"}, true},
		{"all values not equals hit", "ForAllValues:StringNotEquals", []string{"a"}, []string{"b", "a"}, false},
		{"any value not equals", "ForAnyValue:StringNotEquals", []string{"a"}, []string{"a", "b"}, true},
		{"any value not equals absent", "ForAnyValue:StringNotEquals", []string{"a"}, nil, false},
		{"single multi", "StringEquals", "a", []string{"x", "a"}, true},
		{"single multi not", "StringNotEquals", "a", []string{"x", "a"}, false},
		{"null true absent", "Null", "true", nil, true},
		{"null true present", "Null", true, []string{"x"}, false},
		{"null false present", "Null", "false", []string{"x"}, true},
		{"null empty list", "Null", "true", []string{}, true},
		{"num eq", "NumericEquals", 10, []string{"10.0"}, true},
		{"num ne", "NumericNotEquals", []any{1, 2}, []string{"3"}, true},
		{"num lt", "NumericLessThan", "10", []string{"9.5"}, true},
		{"num lt eq", "NumericLessThan", "10", []string{"10"}, false},
		{"num le", "NumericLessThanEquals", "10", []string{"10"}, true},
		{"num gt", "NumericGreaterThan", "-1", []string{"0"}, true},
		{"num ge", "NumericGreaterThanEquals", "1e3", []string{"999"}, false},
		{"num bad req", "NumericEquals", "1", []string{"one"}, false},
		{"num nan req", "NumericNotEquals", "1", []string{"NaN"}, true},
		{"date iso", "DateLessThan", "2024-01-02T00:00:00Z", []string{"2024-01-01"}, true},
		{"date epoch", "DateEquals", "1700000000", []string{"2023-11-14T22:13:20Z"}, true},
		{"date offset", "DateEquals", "2024-01-01T01:00:00+01:00", []string{"2024-01-01T00:00:00Z"}, true},
		{"date ge", "DateGreaterThanEquals", "2024-01-01", []string{"2023-12-31T23:59:59Z"}, false},
		{"date not", "DateNotEquals", "2024-01-01", []string{"2024-01-02"}, true},
		{"bool", "Bool", "true", []string{"TRUE"}, true},
		{"bool false", "Bool", false, []string{"true"}, false},
		{"bool junk", "Bool", "true", []string{"yes"}, false},
		{"binary", "BinaryEquals", "aGVsbG8=", []string{"aGVsbG8="}, true},
		{"binary differs", "BinaryEquals", "aGVsbG8=", []string{"aGVsbA=="}, false},
		{"ip v6", "IpAddress", "2001:db8::/32", []string{"2001:db8::1"}, true},
		{"not ip", "NotIpAddress", []string{"10.0.0.0/8", "192.0.2.1"}, []string{"192.0.2.1"}, false},
		{"arn equals", "ArnEquals", "arn:aws:iot:*:1:thing/*", []string{"arn:aws:iot:r:1:thing/a/b"}, true},
		{"arn like account", "ArnLike", "arn:aws:iot:*:1:thing/*", []string{"arn:aws:iot:r:2:thing/a"}, false},
		{"arn not like", "ArnNotLike", "arn:aws:iot:*:1:thing/*", []string{"arn:aws:iot:r:2:thing/a"}, true},
		{"arn short value", "ArnLike", "*", []string{"arn:aws:iot:r:2:thing/a"}, true},
		{"arn short request", "ArnLike", "arn:*:*:*:*:*", []string{"arn:aws"}, false},
		{"variable value", "StringEquals", "${iot:ClientId}", []string{"c1"}, true},
		{"variable value miss", "StringEquals", "x-${iot:ClientId}", []string{"c1"}, false},
		{"typed variable value", "NumericLessThan", "${t:k}", []string{"3"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condDecides(t, tt.op, tt.values, tt.req); got != tt.want {
				t.Fatalf("%s %v vs %v: got %v, want %v", tt.op, tt.values, tt.req, got, tt.want)
			}
		})
	}
}

// TestCondition_Keys checks that the built-in keys resolve from Vars.
func TestCondition_Keys(t *testing.T) {
	v := &Vars{ClientID: "c", SourceIP: "192.0.2.1", Topic: "a/b", DomainName: "d",
		Thing: &Thing{Name: "t", TypeName: "ty", Attributes: map[string]string{"Color": "red"}},
		Cert: &Cert{ID: "abc", SerialNumber: "7", Subject: DN{CommonName: []string{"cn1", "cn2"}},
			Issuer: DN{Organization: []string{"org"}}, SubjectAltNames: AltNames{DNSName: []string{"x.example"}}}}
	tests := map[string]string{
		"iot:ClientId":                                    "c",
		"aws:sourceip":                                    "192.0.2.1",
		"iot:Topic":                                       "a/b",
		"iot:DomainName":                                  "d",
		"iot:Connection.Thing.ThingName":                  "t",
		"iot:Connection.Thing.ThingTypeName":              "ty",
		"iot:Connection.Thing.Attributes[Color]":          "red",
		"iot:Connection.Thing.IsAttached":                 "true",
		"iot:CertificateId":                               "abc",
		"iot:Certificate.SerialNumber":                    "7",
		"iot:Certificate.Subject.CommonName":              "cn1",
		"iot:Certificate.Subject.CommonName.List":         "cn1,cn2",
		"iot:certificate.issuer.organization":             "org",
		"iot:Certificate.Subject.AlternativeName.DNSName": "x.example",
		"iot:Certificate.Issuer.CommonName":               "",
		"iot:Certificate.AvailableKeys":                   "iot:Certificate.SerialNumber,iot:Certificate.Subject.CommonName,iot:Certificate.Subject.AlternativeName.DNSName,iot:Certificate.Issuer.Organization",
		"iot:Connection.Thing.Attributes[color]":          "",
		"iot:Certificate.Subject.AlternativeName.Unknown": "",
	}
	for key, want := range tests {
		k := parseKey(key)
		val, ok := v.lookup(&k)
		var got string
		for i := 0; ok && i < val.len(); i++ {
			if i > 0 {
				got += ","
			}
			got += val.at(i)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", key, got, want)
		}
	}
}
