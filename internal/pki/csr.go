package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxCSRPEMBytes is the largest CSR SignCSR accepts: the AWS limit on
// certificateSigningRequest (CreateCertificateFromCsr).
const MaxCSRPEMBytes = 4096

// maxSubjectBytes bounds the DER subject copied from a CSR.
const maxSubjectBytes = 1024

// CSRError says why a certificate signing request (or a device public key) is
// refused. Reason is safe to show to the caller; the control plane maps it to
// InvalidRequestException.
type CSRError struct {
	Reason string
}

func (e *CSRError) Error() string { return "invalid CSR: " + e.Reason }

func csrErrorf(format string, args ...any) error {
	return &CSRError{Reason: fmt.Sprintf(format, args...)}
}

// csrValidator checks one property of a parsed CSR, in the style of
// smallstep's sign_options.go: each rule is a small named type.
type csrValidator interface {
	validateCSR(*x509.CertificateRequest) error
}

// csrValidators run in order; the first error refuses the CSR.
var csrValidators = []csrValidator{
	signatureAlgorithmValidator{},
	publicKeyValidator{},
	signatureValidator{},
	notCAValidator{},
	subjectValidator{},
}

// signatureAlgorithmValidator allows the algorithms AWS IoT lists for device
// certificates (RSA PKCS#1 v1.5 and ECDSA with SHA-256/384/512). SHA-1, MD5
// and RSA-PSS are refused.
type signatureAlgorithmValidator struct{}

func (signatureAlgorithmValidator) validateCSR(csr *x509.CertificateRequest) error {
	switch csr.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return nil
	}
	return csrErrorf("signature algorithm %v is not allowed", csr.SignatureAlgorithm)
}

// publicKeyValidator applies ValidatePublicKey.
type publicKeyValidator struct{}

func (publicKeyValidator) validateCSR(csr *x509.CertificateRequest) error {
	if err := ValidatePublicKey(csr.PublicKey); err != nil {
		var ke *KeyError
		if errors.As(err, &ke) {
			return &CSRError{Reason: ke.Reason}
		}
		return csrErrorf("%v", err)
	}
	return nil
}

// signatureValidator checks that the CSR is signed by its own key (proof of
// possession).
type signatureValidator struct{}

func (signatureValidator) validateCSR(csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return csrErrorf("signature does not verify: %v", err)
	}
	return nil
}

var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
)

// notCAValidator refuses a CSR that asks to be a CA: basic constraints
// CA:TRUE, or key usage keyCertSign or cRLSign. Other requested extensions
// are ignored: issued certificates carry only moat's own extensions.
type notCAValidator struct{}

func (notCAValidator) validateCSR(csr *x509.CertificateRequest) error {
	for _, ext := range csr.Extensions {
		switch {
		case ext.Id.Equal(oidBasicConstraints):
			var bc struct {
				IsCA       bool `asn1:"optional"`
				MaxPathLen int  `asn1:"optional,default:-1"`
			}
			rest, err := asn1.Unmarshal(ext.Value, &bc)
			if err != nil || len(rest) != 0 {
				return csrErrorf("malformed basic constraints extension")
			}
			if bc.IsCA {
				return csrErrorf("basic constraints CA:TRUE requested; device certificates cannot be CAs")
			}
		case ext.Id.Equal(oidKeyUsage):
			var ku asn1.BitString
			rest, err := asn1.Unmarshal(ext.Value, &ku)
			if err != nil || len(rest) != 0 {
				return csrErrorf("malformed key usage extension")
			}
			if ku.At(5) == 1 || ku.At(6) == 1 { // keyCertSign, cRLSign (RFC 5280 4.2.1.3)
				return csrErrorf("key usage keyCertSign or cRLSign requested; device certificates cannot be CAs")
			}
		}
	}
	return nil
}

// subjectValidator bounds the subject that is copied into the certificate
// (as AWS copies it): at most maxSubjectBytes of DER, every attribute a valid
// UTF-8 string without control characters, so that it is safe to log and to
// use as a JITP template parameter.
type subjectValidator struct{}

func (subjectValidator) validateCSR(csr *x509.CertificateRequest) error {
	if len(csr.RawSubject) > maxSubjectBytes {
		return csrErrorf("subject is longer than %d bytes", maxSubjectBytes)
	}
	for _, atv := range csr.Subject.Names {
		s, ok := atv.Value.(string)
		if !ok {
			return csrErrorf("subject attribute %v is not a string", atv.Type)
		}
		if !utf8.ValidString(s) {
			return csrErrorf("subject attribute %v is not valid UTF-8", atv.Type)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				return csrErrorf("subject attribute %v contains a control character", atv.Type)
			}
		}
	}
	return nil
}

// ParseCSRPEM parses and checks a CSR as SignCSR does, without signing it.
// The input is exactly one "CERTIFICATE REQUEST" (or legacy "NEW CERTIFICATE
// REQUEST") PEM block, optionally surrounded by white space. Errors are
// *CSRError.
func ParseCSRPEM(s string) (*x509.CertificateRequest, error) {
	if len(s) == 0 {
		return nil, csrErrorf("empty")
	}
	if len(s) > MaxCSRPEMBytes {
		return nil, csrErrorf("longer than %d bytes", MaxCSRPEMBytes)
	}
	blocks, err := decodePEMBlocks([]byte(s))
	if err != nil {
		return nil, csrErrorf("%v", err)
	}
	if len(blocks) != 1 {
		return nil, csrErrorf("want one PEM block, found %d", len(blocks))
	}
	if t := blocks[0].Type; t != "CERTIFICATE REQUEST" && t != "NEW CERTIFICATE REQUEST" {
		return nil, csrErrorf("PEM block type is %q, want CERTIFICATE REQUEST", t)
	}
	csr, err := x509.ParseCertificateRequest(blocks[0].Bytes)
	if err != nil {
		return nil, csrErrorf("%v", err)
	}
	for _, v := range csrValidators {
		if err := v.validateCSR(csr); err != nil {
			return nil, err
		}
	}
	return csr, nil
}
