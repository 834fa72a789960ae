package config

import "strings"

// validateCRL checks the --crl paths: each non-empty and without a NUL.
// Whether a file exists, parses and matches a CA is decided when it is
// loaded, and again each time it changes: a file that is missing or bad
// at start is logged, not fatal, so that a CRL can be dropped in later.
func (c Config) validateCRL(bad func(flag, format string, args ...any)) {
	for _, p := range c.CRLs {
		if strings.TrimSpace(p) == "" || strings.ContainsRune(p, 0) {
			bad("crl", "must be a file path, got %q", p)
		}
	}
}
