package sigv4

import (
	"net/http"
	"testing"
)

func TestEscapePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Checks that an empty path is "/".
		{"empty", "", "/"},
		// Checks that an escaped path label is escaped once more, as the SDKs do for non-S3 services.
		{"label", "/topics/%24aws%2Fthings", "/topics/%2524aws%252Fthings"},
		// Checks that a raw '$' and space are escaped with uppercase hex.
		{"raw", "/a$b c", "/a%24b%20c"},
		// Checks that unreserved characters and '/' are kept.
		{"unreserved", "/-._~Az09/", "/-._~Az09/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapePath(tt.in); got != tt.want {
				t.Fatalf("escapePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRemoveDotSegments(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Checks botocore's normalisation: dot segments and empty segments go, edge slashes stay.
		{"relative", "/example1/example2/../..", "/"},
		{"slashes", "//example//", "/example/"},
		{"dot", "/./example", "/example"},
		{"plain", "/things/lamp-1", "/things/lamp-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := removeDotSegments(tt.in); got != tt.want {
				t.Fatalf("removeDotSegments(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		// Checks sorting by key then value, after encoding.
		{"sort", "b=2&a=2&a=1", "a=1&a=2&b=2"},
		// Checks that '+' is a space and is re-encoded as %20, and '/' as %2F.
		{"encode", "k=a+b%2Fc&e", "e=&k=a%20b%2Fc"},
		// Checks that sorting happens after encoding ("a%2Fb" sorts before "a-b").
		{"after-encoding", "x=a-b&x=a/b", "x=a%2Fb&x=a-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, ok := parseQuery(tt.raw)
			if !ok {
				t.Fatalf("parseQuery(%q) failed", tt.raw)
			}
			if got := canonicalQuery(q); got != tt.want {
				t.Fatalf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestRawPath(t *testing.T) {
	tests := []struct {
		name       string
		requestURI string
		want       string
	}{
		// Checks that the server-side request target is used as sent, not re-encoded.
		{"origin-form", "/topics/%24aws%2Fx?qos=1", "/topics/%24aws%2Fx"},
		// Checks raw UTF-8 bytes, which r.URL.EscapedPath() would re-encode.
		{"raw-utf8", "/\xe1\x88\xb4", "/\xe1\x88\xb4"},
		// Checks the absolute form a proxy may send.
		{"absolute-form", "https://h:1/a/b?x=/y", "/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", "https://h/ignored", nil)
			if err != nil {
				t.Fatal(err)
			}
			r.RequestURI = tt.requestURI
			if got := rawPath(r); got != tt.want {
				t.Fatalf("rawPath = %q, want %q", got, tt.want)
			}
		})
	}
}
