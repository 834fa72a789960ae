package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/pki"
)

// ServerCertFiles name an operator-provided server certificate. All empty
// (the default): moat serves a certificate it issues from its own root CA.
//
// Cert and Key go together. The root devices must trust, written to
// DATA/root-ca.pem, is chosen by one rule: CA if it is set, else the last
// certificate of Cert, which must then be self-signed.
type ServerCertFiles struct {
	// Cert is a PEM file: the server certificate, then its intermediates
	// in order, optionally ending with the root.
	Cert string `yaml:"server-cert"`
	// Key is a PEM file holding the certificate's private key (PKCS#8,
	// PKCS#1 or SEC 1; RSA of at least 2048 bits, ECDSA P-256 or P-384).
	Key string `yaml:"server-key"`
	// CA is a PEM file holding the one root certificate Cert chains to.
	// Empty: the last certificate of Cert is the root.
	CA string `yaml:"server-ca"`
}

// validateServerCert checks the --server-* settings without reading the
// files: --server-cert and --server-key both or neither, --server-ca only
// with them, no NUL in a path. LoadServerCert checks the files.
func (c Config) validateServerCert(bad func(flag, format string, args ...any)) {
	t := c.TLS
	for flag, p := range map[string]string{"server-cert": t.Cert, "server-key": t.Key, "server-ca": t.CA} {
		if strings.ContainsRune(p, 0) {
			bad(flag, "must be a file path, got %q", p)
		}
	}
	switch {
	case t.Cert != "" && t.Key == "":
		bad("server-key", "is required with --server-cert")
	case t.Cert == "" && t.Key != "":
		bad("server-cert", "is required with --server-key")
	case t.Cert == "" && t.CA != "":
		bad("server-ca", "needs --server-cert and --server-key")
	}
}

// LoadServerCert reads and checks the operator's server certificate at time
// now (see pki.ParseOperatorCert for the rules) and that it covers at least
// one of c.Hostnames; it returns nil, nil when none is configured. The
// hostnames it does not cover are returned for the caller to log. Errors are
// *FieldError naming the flag of the file at fault.
func (c Config) LoadServerCert(now time.Time) (cert *pki.OperatorCert, uncovered []string, err error) {
	var errs []error
	c.validateServerCert(func(flag, format string, args ...any) {
		errs = append(errs, &FieldError{Flag: flag, Problem: fmt.Sprintf(format, args...)})
	})
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if c.TLS.Cert == "" {
		return nil, nil, nil
	}
	cert, err = pki.LoadOperatorCert(c.TLS.Cert, c.TLS.Key, c.TLS.CA, now)
	if err == nil {
		uncovered, err = cert.CheckCovers(c.Hostnames)
	}
	if err != nil {
		return nil, nil, serverCertError(err)
	}
	return cert, uncovered, nil
}

// serverCertError turns a *pki.OperatorCertError into a *FieldError.
func serverCertError(err error) error {
	var oe *pki.OperatorCertError
	if !errors.As(err, &oe) {
		return &FieldError{Flag: "server-cert", Problem: err.Error()}
	}
	flag := map[pki.OperatorPart]string{pki.PartCert: "server-cert", pki.PartKey: "server-key", pki.PartCA: "server-ca"}[oe.Part]
	return &FieldError{Flag: flag, Problem: oe.Err.Error()}
}
