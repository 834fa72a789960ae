package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// MaxCertificatePEMBytes is the largest certificate PEM ParseCertificatePEM
// accepts: the AWS limit on certificatePem (RegisterCertificate).
const MaxCertificatePEMBytes = 65536

// ErrInvalidCertificate is wrapped by every error of ParseCertificatePEM:
// the input is not exactly one well-formed X.509 certificate in PEM.
var ErrInvalidCertificate = errors.New("invalid certificate")

// CertificateID returns the AWS IoT certificate ID of a DER certificate: the
// lowercase hex SHA-256 of the DER (64 characters). CA certificates use the
// same derivation.
func CertificateID(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// ParseCertificatePEM parses exactly one "CERTIFICATE" PEM block, optionally
// surrounded by white space, with nothing else around it and no PEM headers.
// Errors wrap ErrInvalidCertificate. It does not check the key or the
// validity period; see ValidatePublicKey.
func ParseCertificatePEM(s string) (*x509.Certificate, error) {
	if len(s) > MaxCertificatePEMBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidCertificate, MaxCertificatePEMBytes)
	}
	blocks, err := decodePEMBlocks([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
	}
	if len(blocks) != 1 {
		return nil, fmt.Errorf("%w: want one PEM block, found %d", ErrInvalidCertificate, len(blocks))
	}
	if blocks[0].Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: PEM block type is %q, want CERTIFICATE", ErrInvalidCertificate, blocks[0].Type)
	}
	cert, err := x509.ParseCertificate(blocks[0].Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
	}
	return cert, nil
}

// readCertChainFile reads a file of one or more CERTIFICATE blocks.
func readCertChainFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	blocks, err := decodePEMBlocks(data)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %v", path, err)
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("pki: %s: unexpected PEM block type %q", path, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: %s: %v", path, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// Key policy for device keys (CSRs and, for the caller, registered
// certificates). AWS IoT accepts RSA of at least 2048 bits and ECDSA P-256
// and P-384 (P-521 unconfirmed); moat also accepts P-521, which Go's TLS
// stack verifies, caps RSA at 4096 bits (bigger keys make every handshake
// expensive) and requires exponent 65537 (as Let's Encrypt does).
const (
	MinRSABits = 2048
	MaxRSABits = 4096
)

// ValidatePublicKey reports whether pub is acceptable as a device key: RSA
// 2048 to 4096 bits with exponent 65537, or ECDSA on P-256, P-384 or P-521.
// DSA, Ed25519 and other curves are refused. The error is a *KeyError.
func ValidatePublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < MinRSABits {
			return &KeyError{Reason: fmt.Sprintf("RSA key of %d bits is too small (minimum %d)", bits, MinRSABits)}
		}
		if bits > MaxRSABits {
			return &KeyError{Reason: fmt.Sprintf("RSA key of %d bits is too large (maximum %d)", bits, MaxRSABits)}
		}
		if k.E != 65537 {
			return &KeyError{Reason: fmt.Sprintf("RSA public exponent %d is not allowed (want 65537)", k.E)}
		}
		if k.N.Bit(0) == 0 {
			return &KeyError{Reason: "RSA modulus is even"}
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return &KeyError{Reason: "ECDSA curve is not allowed (want P-256, P-384 or P-521)"}
	}
	return &KeyError{Reason: fmt.Sprintf("public key type %s is not allowed (want RSA or ECDSA)", keyName(pub))}
}

func keyName(pub crypto.PublicKey) string {
	if pub == nil {
		return "unknown"
	}
	return fmt.Sprintf("%T", pub)
}

// KeyError says why a device public key is refused. Reason is safe to show
// to the caller.
type KeyError struct {
	Reason string
}

func (e *KeyError) Error() string { return "unsupported key: " + e.Reason }
