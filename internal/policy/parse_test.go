package policy

import (
	"errors"
	"strings"
	"testing"
)

const seedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"},{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/${iot:ClientId}/*"}]}`

// TestParse_Seed checks the document model built for the seed policy.
func TestParse_Seed(t *testing.T) {
	d, err := Parse([]byte(seedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != Version2012 || !d.Variables() || len(d.Statements) != 3 {
		t.Fatalf("got %+v", d)
	}
	st := d.Statements[1]
	if st.Effect != Allow || st.NotAction || len(st.Actions) != 2 || st.Actions[1] != "iot:Receive" ||
		st.Resources[0] != "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*" {
		t.Fatalf("statement 1: %+v", st)
	}
}

// TestParse_Valid accepts documents in every allowed shape.
func TestParse_Valid(t *testing.T) {
	tests := map[string]string{
		"single statement object": `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`,
		"no version":              `{"Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`,
		"old version":             `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`,
		"id and sids":             `{"Id":"x","Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"iot:*","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"iot:*","Resource":"*"}]}`,
		"not forms":               `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iot:Connect"],"NotResource":["arn:aws:iot:*:*:client/x"]}]}`,
		"wildcard action parts":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Get*","iot:?ublish","iot*:*"],"Resource":"*"}]}`,
		"conditions":              `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":true},"NumericLessThan":{"aws:EpochTime":[1700000000, "1.5e9"]},"ForAnyValue:StringLikeIfExists":{"iot:ConnectAttributes":["*"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"Null":{"iot:ClientId":"false"},"BinaryEquals":{"x:y":"aGVsbG8="},"StringEquals":{"iot:ClientId":"${iot:Connection.Thing.ThingName}"}}}]}`,
		"empty condition":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{}}]}`,
		"whitespace and unicode":  "\n {\"Version\" : \"2012-10-17\",\t\"Statement\": [ {\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:aws:iot:r:a:topic/é/${iot:ClientId}\"} ] } \n",
		"variable-like in 2008":   `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:a:topic/${unterminated"}]}`,
		"typed value w/ variable": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"NumericEquals":{"a:b":"${iot:Connection.Thing.Attributes[n]}"}}}]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Compile("p", "1", d); err != nil {
				t.Fatalf("compile: %v", err)
			}
		})
	}
}

// stmt wraps statement JSON into a valid document.
func stmt(s string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"First","Effect":"Allow","Action":"iot:*","Resource":"*"},` + s + `]}`
}

// TestParse_Errors checks that each rule gives a SyntaxError naming the
// statement and field.
func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, doc string
		stmt      int
		field     string
		msg       string
	}{
		{"empty", ``, -1, "", "empty document"},
		{"blank", " \n\t", -1, "", "empty document"},
		{"not object", `[]`, -1, "", "must be a JSON object"},
		{"bad json", `{"Version":`, -1, "", "invalid JSON"},
		{"bad json token", `{"Version" "x"}`, -1, "", "invalid JSON"},
		{"trailing garbage", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} x`, -1, "", "unexpected data after"},
		{"second document", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, -1, "", "unexpected data after"},
		{"invalid utf8", "{\"Id\":\"\xff\"}", -1, "", "UTF-8"},
		{"dup top key", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}`, -1, "Version", "duplicate element"},
		{"unknown top key", `{"Version":"2012-10-17","Statements":[]}`, -1, "Statements", "unknown element"},
		{"lowercase key", `{"version":"2012-10-17"}`, -1, "version", "unknown element"},
		{"bad version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, -1, "Version", `must be "2012-10-17" or "2008-10-17"`},
		{"version number", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, -1, "Version", "must be a string"},
		{"id number", `{"Id":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, -1, "Id", "must be a string"},
		{"no statement", `{"Version":"2012-10-17"}`, -1, "Statement", "missing"},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, -1, "Statement", "at least one"},
		{"statement string", `{"Version":"2012-10-17","Statement":"x"}`, -1, "Statement", "must be an object or an array"},
		{"statement not object", stmt(`"x"`), 1, "", "must be a JSON object"},
		{"dup statement key", stmt(`{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}`), 1, "Effect", "duplicate element"},
		{"unknown statement key", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}`), 1, "Actions", "unknown element"},
		{"principal", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), 1, "Principal", "not allowed"},
		{"sid number", stmt(`{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}`), 1, "Sid", "must be a string"},
		{"dup sid", stmt(`{"Sid":"First","Effect":"Allow","Action":"*","Resource":"*"}`), 1, "Sid", "duplicate Sid"},
		{"no effect", stmt(`{"Action":"*","Resource":"*"}`), 1, "Effect", "missing"},
		{"lowercase effect", stmt(`{"Sid":"AllowPub","Effect":"allow","Action":"*","Resource":"*"}`), 1, "Effect", `must be "Allow" or "Deny", got "allow"`},
		{"effect bool", stmt(`{"Effect":true,"Action":"*","Resource":"*"}`), 1, "Effect", "got a boolean"},
		{"no action", stmt(`{"Effect":"Allow","Resource":"*"}`), 1, "Action", "missing"},
		{"both actions", stmt(`{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}`), 1, "NotAction", "both Action and NotAction"},
		{"empty action list", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), 1, "Action", "empty array"},
		{"action number", stmt(`{"Effect":"Allow","Action":["iot:Publish",3],"Resource":"*"}`), 1, "Action[1]", "must be a string"},
		{"action object", stmt(`{"Effect":"Allow","Action":{},"Resource":"*"}`), 1, "Action", "string or an array"},
		{"action no vendor", stmt(`{"Effect":"Allow","Action":"Publish","Resource":"*"}`), 1, "Action", "service:action"},
		{"action empty name", stmt(`{"Effect":"Allow","Action":["iot:Publish","iot:"],"Resource":"*"}`), 1, "Action[1]", "missing action name"},
		{"action space", stmt(`{"Effect":"Allow","Action":"iot:Publish ","Resource":"*"}`), 1, "Action", "action name may hold"},
		{"action double colon", stmt(`{"Effect":"Allow","Action":"iot::Publish","Resource":"*"}`), 1, "Action", "action name may hold"},
		{"action bad vendor", stmt(`{"Effect":"Allow","Action":"i/t:Publish","Resource":"*"}`), 1, "Action", "service prefix"},
		{"no resource", stmt(`{"Effect":"Allow","Action":"*"}`), 1, "Resource", "missing"},
		{"both resources", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}`), 1, "NotResource", "both Resource and NotResource"},
		{"resource not arn", stmt(`{"Effect":"Allow","Action":"*","Resource":"topic/a"}`), 1, "Resource", "ARN"},
		{"resource short arn", stmt(`{"Effect":"Allow","Action":"*","Resource":["*","arn:aws:iot:topic/a"]}`), 1, "Resource[1]", "ARN"},
		{"resource empty", stmt(`{"Effect":"Allow","Action":"*","Resource":""}`), 1, "Resource", "ARN"},
		{"resource control char", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:a:topic/\u0000"}`), 1, "Resource", "control"},
		{"unterminated variable", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:a:topic/${iot:ClientId"}`), 1, "Resource", "unterminated policy variable"},
		{"empty variable", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:a:topic/${}"}`), 1, "Resource", "empty policy variable"},
		{"nested variable", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:r:a:topic/${a${b}}"}`), 1, "Resource", "malformed policy variable"},
		{"condition string", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}`), 1, "Condition", "must be an object"},
		{"unknown operator", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"a:b":"c"}}}`), 1, "Condition.StringEqual", "unknown condition operator"},
		{"operator case", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringequals":{"a:b":"c"}}}`), 1, "Condition.stringequals", "unknown condition operator"},
		{"null ifexists", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}`), 1, "Condition.NullIfExists", "unknown condition operator"},
		{"bad qualifier", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"a:b":"c"}}}`), 1, "Condition.ForSomeValues:StringLike", "set qualifier"},
		{"dup operator", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a:b":true},"Bool":{"a:c":true}}}`), 1, "Condition.Bool", "duplicate condition operator"},
		{"dup condition key", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a:b":true,"a:b":false}}}`), 1, "Condition.Bool.a:b", "duplicate condition key"},
		{"operator block empty", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{}}}`), 1, "Condition.Bool", "at least one condition key"},
		{"operator block array", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":[]}}`), 1, "Condition.Bool", "must be an object"},
		{"condition key no vendor", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"SecureTransport":true}}}`), 1, "Condition.Bool.SecureTransport", "vendor:name"},
		{"condition value null", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":null}}}`), 1, "Condition.StringEquals.a:b", "got null"},
		{"condition value empty list", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":[]}}}`), 1, "Condition.StringEquals.a:b", "empty array"},
		{"condition value object", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":["x",{}]}}}`), 1, "Condition.StringEquals.a:b[1]", "got an object"},
		{"bad number", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"a:b":["1","one"]}}}`), 1, "Condition.NumericEquals.a:b[1]", "not a number"},
		{"bad date", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), 1, "Condition.DateLessThan.aws:CurrentTime", "not a date"},
		{"bad bool", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a:b":"yes"}}}`), 1, "Condition.Bool.a:b", `not "true" or "false"`},
		{"bad cidr", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), 1, "Condition.IpAddress.aws:SourceIp", "not an IP address"},
		{"bad base64", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"a:b":"%%%"}}}`), 1, "Condition.BinaryEquals.a:b", "not base64"},
		{"bad variable in condition", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"a:b":"${x"}}}`), 1, "Condition.StringLike.a:b", "unterminated"},
		{"too deep", `{"Statement":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}`, -1, "", "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want *SyntaxError", err)
			}
			if se.Statement != tt.stmt || se.Field != tt.field || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("got {stmt %d field %q msg %q}, want {stmt %d field %q msg ~%q}",
					se.Statement, se.Field, se.Msg, tt.stmt, tt.field, tt.msg)
			}
		})
	}
}

// TestSyntaxError_Error checks the message format.
func TestSyntaxError_Error(t *testing.T) {
	_, err := Parse([]byte(stmt(`{"Sid":"AllowPub","Effect":"allow","Action":"*","Resource":"*"}`)))
	want := `statement[1] (Sid "AllowPub"): Effect: must be "Allow" or "Deny", got "allow"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	_, err = Parse([]byte(`{"Version":"1"}`))
	want = `policy document: Version: must be "2012-10-17" or "2008-10-17", got "1"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// sized returns a valid document of exactly n non-whitespace characters,
// padded with whitespace that must not count.
func sized(t *testing.T, n int) []byte {
	head := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:a:topic/`
	tail := `"}}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatal("n too small")
	}
	return []byte(head + strings.Repeat("a", pad) + tail + strings.Repeat(" \n", 500))
}

// TestParse_Size checks the size quota, whitespace excluded, and options.
func TestParse_Size(t *testing.T) {
	if _, err := Parse(sized(t, DefaultMaxSize)); err != nil {
		t.Fatalf("at limit: %v", err)
	}
	_, err := Parse(sized(t, DefaultMaxSize+1))
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "2049 characters long excluding whitespace; the limit is 2048") {
		t.Fatalf("over limit: %v", err)
	}
	if _, err := (ParseOptions{MaxSize: 4096}).Parse(sized(t, 4096)); err != nil {
		t.Fatalf("raised limit: %v", err)
	}
	big := append([]byte(`{"Id":"`), make([]byte, APIMaxSize)...)
	if _, err := (ParseOptions{MaxSize: APIMaxSize}).Parse(big); err == nil || !strings.Contains(err.Error(), "longer than 404600") {
		t.Fatalf("API limit: %v", err)
	}
	for _, bad := range []int{-1, APIMaxSize + 1} {
		_, err := (ParseOptions{MaxSize: bad}).Parse(sized(t, 200))
		if err == nil || errors.As(err, &se) {
			t.Fatalf("MaxSize %d: got %v, want a plain error", bad, err)
		}
	}
}

// TestParseOperator checks operator names, qualifiers and String.
func TestParseOperator(t *testing.T) {
	good := []string{"StringLike", "StringLikeIfExists", "ForAnyValue:StringEquals",
		"ForAllValues:NumericLessThanEqualsIfExists", "Null", "ArnNotLike", "DateGreaterThanEquals"}
	for _, s := range good {
		op, err := ParseOperator(s)
		if err != nil || op.String() != s {
			t.Errorf("%s: got %v, %v", s, op, err)
		}
	}
	for _, s := range []string{"", "IfExists", "NullIfExists", "StringLikeIfExists2", "ForAnyValue:", ":StringLike", "StringLike:ForAnyValue"} {
		if _, err := ParseOperator(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}
