package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
)

// DeviceCommonName is the subject CN of certificates made by
// CreateKeysAndCertificate, as AWS IoT sets it.
const DeviceCommonName = "AWS IoT Certificate"

// Issued is a device certificate made by the device CA. The private key is
// returned once and never stored by moat.
type Issued struct {
	// ID is the certificate ID: CertificateID(Certificate.Raw).
	ID string
	// CertificatePEM is one "CERTIFICATE" block ending in a newline.
	CertificatePEM string
	// PublicKeyPEM is the PKIX "PUBLIC KEY" block.
	PublicKeyPEM string
	// PrivateKeyPEM is "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY"
	// (PKCS#1) as AWS returns it; empty for SignCSR.
	PrivateKeyPEM string
	// Certificate is the parsed certificate.
	Certificate *x509.Certificate
}

// CreateKeysAndCertificate makes a fresh key of Options.DeviceKeyType and a
// certificate for it signed by the device CA, like AWS IoT
// CreateKeysAndCertificate: subject CN "AWS IoT Certificate", valid until
// DeviceNotAfter, extended key usage clientAuth, random 159-bit serial.
// The certificate is not registered anywhere: the caller stores it.
func (a *Authority) CreateKeysAndCertificate() (Issued, error) {
	key, err := generateKey(a.opts.DeviceKeyType)
	if err != nil {
		return Issued{}, err
	}
	subject, err := asn1Subject(pkix.Name{CommonName: DeviceCommonName})
	if err != nil {
		return Issued{}, err
	}
	iss, err := a.issueDevice(key.Public(), subject)
	if err != nil {
		return Issued{}, err
	}
	keyPEM, err := privateKeyPEM(key)
	if err != nil {
		return Issued{}, err
	}
	iss.PrivateKeyPEM = string(keyPEM)
	return iss, nil
}

// SignCSR checks a CSR (see ParseCSRPEM: one PEM block, valid self-signature,
// RSA 2048-4096 with e=65537 or ECDSA P-256/P-384/P-521, no CA request, a sane
// subject) and issues a device certificate for its key, like AWS IoT
// CreateCertificateFromCsr. The subject is copied byte for byte from the CSR;
// every extension the CSR requests is ignored and the certificate carries
// the same extensions as CreateKeysAndCertificate's. A refused CSR gives a
// *CSRError. PrivateKeyPEM is empty.
func (a *Authority) SignCSR(csrPEM string) (Issued, error) {
	csr, err := ParseCSRPEM(csrPEM)
	if err != nil {
		return Issued{}, err
	}
	return a.issueDevice(csr.PublicKey, csr.RawSubject)
}

// issueDevice signs pub with the device CA under the DER subject rawSubject.
func (a *Authority) issueDevice(pub crypto.PublicKey, rawSubject []byte) (Issued, error) {
	serial, err := randomSerial()
	if err != nil {
		return Issued{}, err
	}
	now := a.opts.now()
	if !now.Before(DeviceNotAfter) {
		return Issued{}, fmt.Errorf("pki: cannot issue device certificates after %v", DeviceNotAfter)
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := pub.(*rsa.PublicKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            rawSubject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              DeviceNotAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.device, pub, a.deviceKey)
	if err != nil {
		return Issued{}, fmt.Errorf("pki: issue device certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Issued{}, fmt.Errorf("pki: issue device certificate: %w", err)
	}
	pubPEM, err := publicKeyPEM(pub)
	if err != nil {
		return Issued{}, err
	}
	return Issued{
		ID:             CertificateID(der),
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		PublicKeyPEM:   string(pubPEM),
		Certificate:    cert,
	}, nil
}

// asn1Subject returns the DER of name.
func asn1Subject(name pkix.Name) ([]byte, error) {
	der, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("pki: subject: %w", err)
	}
	return der, nil
}
