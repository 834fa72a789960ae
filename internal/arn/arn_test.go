package arn

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     ARN
		wantErr  bool
	}{
		// a certificate ARN splits into its five parts
		{"cert", "arn:aws:iot:us-east-1:000000000000:cert/abc", ARN{"aws", "iot", "us-east-1", "000000000000", "cert/abc"}, false},
		// colons inside the resource are kept
		{"resource colons", "arn:aws:iot:r:a:topic/a:b", ARN{"aws", "iot", "r", "a", "topic/a:b"}, false},
		// too few parts
		{"short", "arn:aws:iot:r:a", ARN{}, true},
		// wrong prefix
		{"prefix", "urn:aws:iot:r:a:thing/x", ARN{}, true},
		// empty resource
		{"empty resource", "arn:aws:iot:r:a:", ARN{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err == nil && got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestBuilder_Own(t *testing.T) {
	b := Builder{Region: "us-east-1", Account: "000000000000"}
	if n, ok := b.Own(b.Cert("abc"), "cert"); !ok || n != "abc" {
		t.Fatalf("Own(cert) = %q, %v", n, ok)
	}
	// another account's certificate is not ours
	if _, ok := b.Own("arn:aws:iot:us-east-1:111111111111:cert/abc", "cert"); ok {
		t.Fatal("Own accepted a foreign account")
	}
	// a thing ARN is not a certificate ARN
	if _, ok := b.Own(b.Thing("x"), "cert"); ok {
		t.Fatal("Own accepted the wrong type")
	}
}
