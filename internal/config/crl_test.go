package config

import (
	"slices"
	"strings"
	"testing"
)

// TestLoad_CRL checks --crl: none by default, repeatable, flags replacing
// the file's list, the environment comma-separated, empty paths refused.
func TestLoad_CRL(t *testing.T) {
	c, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CRLs) != 0 {
		t.Fatalf("default CRLs = %q, want none", c.CRLs)
	}
	file := writeFile(t, "crl: [/etc/moat/file.crl]\n")
	c, err = Load([]string{"--config", file}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CRLs, []string{"/etc/moat/file.crl"}) {
		t.Fatalf("from the file: %q", c.CRLs)
	}
	c, err = Load([]string{"--config", file, "--crl", "a.pem", "--crl", "b.der"}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CRLs, []string{"a.pem", "b.der"}) {
		t.Fatalf("flags over the file: %q", c.CRLs)
	}
	c, err = Load(nil, envMap(map[string]string{"MOAT_CRL": "x.crl,y.crl"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CRLs, []string{"x.crl", "y.crl"}) {
		t.Fatalf("from the environment: %q", c.CRLs)
	}
	for _, bad := range []string{"a\x00b"} {
		if _, err := Load([]string{"--crl", bad}, envMap(nil)); err == nil || !strings.Contains(err.Error(), "--crl: must be a file path") {
			t.Errorf("--crl %q: err = %v, want --crl: must be a file path", bad, err)
		}
	}
}
