package config

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		// Plain numbers are bytes.
		{"bytes", "1048576", 1048576, ""},
		// Binary units are powers of 1024.
		{"kib", "512KiB", 512 * 1024, ""},
		{"mib", "1MiB", 1 << 20, ""},
		{"gib", "2GiB", 2 << 30, ""},
		// Decimal units are powers of 1000.
		{"kb", "64KB", 64000, ""},
		{"mb", "3MB", 3000000, ""},
		// B is bytes; units are case-insensitive and may follow a space.
		{"b unit", "100B", 100, ""},
		{"case and space", " 1 mib ", 1 << 20, ""},
		// Zero parses (Validate decides whether it is allowed).
		{"zero", "0", 0, ""},
		// Empty input, signs, fractions and unknown units are rejected.
		{"empty", "", 0, "want a number"},
		{"negative", "-1", 0, "want a number"},
		{"plus", "+1", 0, "want a number"},
		{"fraction", "1.5MiB", 0, "unknown unit"},
		{"unknown unit", "10 parsecs", 0, "unknown unit"},
		{"unit only", "MiB", 0, "want a number"},
		// Values that overflow int64 are rejected, not wrapped.
		{"overflow number", "99999999999999999999", 0, "too large"},
		{"overflow unit", "9000000000GiB", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSize(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want string
	}{
		// Zero has no unit.
		{"zero", 0, "0"},
		// The largest exact binary unit is used.
		{"mib", 1 << 20, "1MiB"},
		{"kib", 1536 * 1024, "1536KiB"},
		{"gib", 3 << 30, "3GiB"},
		// Sizes that no unit divides stay in bytes.
		{"bytes", 1000, "1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatSize(tt.in); got != tt.want {
				t.Fatalf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
			}
			if back, err := ParseSize(FormatSize(tt.in)); err != nil || back != tt.in {
				t.Fatalf("ParseSize(FormatSize(%d)) = %d, %v", tt.in, back, err)
			}
		})
	}
}
