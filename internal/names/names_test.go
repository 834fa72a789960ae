package names

import (
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/awsapi"
)

func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		check func(string, string) error
		in    string
		ok    bool
	}{
		{"thing ok", Thing, "lamp-1:a_b", true},
		{"thing empty", Thing, "", false},
		{"thing space", Thing, "lamp 1", false},
		{"thing slash", Thing, "a/b", false},
		{"thing 128", Thing, strings.Repeat("a", 128), true},
		{"thing 129", Thing, strings.Repeat("a", 129), false},
		{"policy ok", Policy, "Dev.Policy+v1=x,y@z-w_", true},
		{"policy colon", Policy, "a:b", false},
		{"attr name ok", AttributeName, "a.b/c:d#e", true},
		{"attr value empty ok", AttributeValue, "", true},
		{"attr value space", AttributeValue, "a b", false},
		{"cert id ok", CertificateID, strings.Repeat("ab", 32), true},
		{"cert id short", CertificateID, "abc", false},
		{"cert id non-hex", CertificateID, strings.Repeat("zz", 32), false},
		{"version ok", PolicyVersionID, "12", true},
		{"version letters", PolicyVersionID, "v1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// each check accepts exactly the model's pattern and names the member
			err := tt.check("member", tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && (!awsapi.Is(err, awsapi.InvalidRequest) || !strings.Contains(err.Error(), "member")) {
				t.Fatalf("error %v is not an InvalidRequestException naming the member", err)
			}
		})
	}
}

// TestDescription checks the description rule shared by thing types and
// thing groups: visible characters and plain spaces, bounded length.
func TestDescription(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"words and spaces", "Lamps, f 1", true},
		{"empty", "", true},
		{"at the limit", strings.Repeat("é", 10), true},
		{"over the limit", strings.Repeat("a", 11), false},
		{"newline", "a\nb", false},
		{"tab", "a\tb", false},
		{"control character", "a\x00b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Description("desc", tt.in, 10)
			if (err == nil) != tt.ok {
				t.Fatalf("Description(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && (!awsapi.Is(err, awsapi.InvalidRequest) || !strings.Contains(err.Error(), "desc")) {
				t.Fatalf("error %v is not an InvalidRequestException naming the member", err)
			}
		})
	}
}
