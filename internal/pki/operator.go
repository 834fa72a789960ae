package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"
)

// OperatorCert is a server certificate chain and private key provided by the
// operator (moat serve --server-cert/--server-key/--server-ca) instead of the
// one moat issues from its own root CA. moat serves Chain as it is, never
// renews it, and writes Root to root-ca.pem: the certificate devices and API
// clients must trust.
//
// Make one with LoadOperatorCert or ParseOperatorCert; they check everything
// below, so an *OperatorCert is always usable.
type OperatorCert struct {
	// Chain is the certificate file's content: the leaf first, then the
	// intermediates (and possibly the root) in order.
	Chain []*x509.Certificate
	// Key is the leaf's private key: RSA of at least 2048 bits or ECDSA on
	// P-256 or P-384.
	Key crypto.Signer
	// Root is the trust anchor: the --server-ca certificate if one was
	// given, else the last certificate of Chain, which must be self-signed.
	Root *x509.Certificate
}

// Leaf returns Chain[0].
func (o *OperatorCert) Leaf() *x509.Certificate { return o.Chain[0] }

// OperatorPart names one of the inputs of an operator certificate, so that
// callers can tell the user which file (flag) an error is about.
type OperatorPart int

const (
	// PartCert is the certificate chain file (--server-cert).
	PartCert OperatorPart = iota
	// PartKey is the private key file (--server-key).
	PartKey
	// PartCA is the trust anchor file (--server-ca).
	PartCA
)

// String returns "certificate", "key" or "CA".
func (p OperatorPart) String() string {
	switch p {
	case PartCert:
		return "certificate"
	case PartKey:
		return "key"
	case PartCA:
		return "CA"
	}
	return fmt.Sprintf("OperatorPart(%d)", int(p))
}

// OperatorCertError is why an operator certificate is refused. Part says
// which input the problem is in; Err is the reason, safe to show (it never
// contains key material).
type OperatorCertError struct {
	Part OperatorPart
	Err  error
}

func (e *OperatorCertError) Error() string { return "server " + e.Part.String() + ": " + e.Err.Error() }

func (e *OperatorCertError) Unwrap() error { return e.Err }

func partErr(p OperatorPart, format string, args ...any) error {
	return &OperatorCertError{Part: p, Err: fmt.Errorf(format, args...)}
}

// LoadOperatorCert reads the certificate chain at certPath, the private key
// at keyPath and, if caPath is not empty, the trust anchor at caPath, and
// checks them with ParseOperatorCert at time now. The key file must not be
// accessible by others (group access is allowed, for the usual ssl-cert
// group). Errors are *OperatorCertError.
func LoadOperatorCert(certPath, keyPath, caPath string, now time.Time) (*OperatorCert, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, &OperatorCertError{Part: PartCert, Err: err}
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		return nil, &OperatorCertError{Part: PartKey, Err: err}
	}
	if checkUnix && fi.Mode().Perm()&0o007 != 0 {
		return nil, partErr(PartKey, "%s has mode %04o: a private key must not be accessible by others (run chmod o-rwx %s)",
			keyPath, fi.Mode().Perm(), keyPath)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, &OperatorCertError{Part: PartKey, Err: err}
	}
	var caPEM []byte
	if caPath != "" {
		if caPEM, err = os.ReadFile(caPath); err != nil {
			return nil, &OperatorCertError{Part: PartCA, Err: err}
		}
	}
	return ParseOperatorCert(certPEM, keyPEM, caPEM, now)
}

// ParseOperatorCert parses and checks an operator certificate:
//
//   - certPEM holds one or more CERTIFICATE blocks, the leaf first, then
//     its intermediates in order (the root may end the list);
//   - keyPEM holds one private key (PKCS#8, PKCS#1 or SEC 1), RSA of at
//     least 2048 bits or ECDSA on P-256 or P-384, matching the leaf;
//   - the leaf is valid at now and has the serverAuth extended key usage,
//     or none at all;
//   - the trust anchor is the single certificate of caPEM if caPEM is not
//     empty, else the last certificate of certPEM, which must then be
//     self-signed. The leaf must verify to it through the chain's other
//     certificates (x509.Certificate.Verify, serverAuth).
//
// The rule for the anchor is deliberately simple: moat never guesses a root
// it was not given. Errors are *OperatorCertError.
func ParseOperatorCert(certPEM, keyPEM, caPEM []byte, now time.Time) (*OperatorCert, error) {
	chain, err := parseCertBlocks(certPEM)
	if err != nil {
		return nil, &OperatorCertError{Part: PartCert, Err: err}
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, partErr(PartKey, "not a usable private key: %v", err)
	}
	if err := checkOperatorKey(key.Public()); err != nil {
		return nil, &OperatorCertError{Part: PartKey, Err: err}
	}
	leaf := chain[0]
	if !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, partErr(PartKey, "%w: it is not the key of the first certificate (%s)", errNoMatch, leaf.Subject)
	}
	if now.Before(leaf.NotBefore) {
		return nil, partErr(PartCert, "certificate %s is not valid before %s", leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return nil, partErr(PartCert, "certificate %s expired on %s", leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) &&
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, partErr(PartCert, "certificate %s lacks the serverAuth extended key usage", leaf.Subject)
	}

	var root *x509.Certificate
	rootPart := PartCert
	if len(caPEM) > 0 {
		rootPart = PartCA
		cas, err := parseCertBlocks(caPEM)
		if err != nil {
			return nil, &OperatorCertError{Part: PartCA, Err: err}
		}
		if len(cas) != 1 {
			return nil, partErr(PartCA, "want exactly one certificate (the root devices must trust), found %d", len(cas))
		}
		root = cas[0]
	} else {
		root = chain[len(chain)-1]
		if !isSelfSigned(root) {
			return nil, partErr(PartCert, "the last certificate (%s) is not a self-signed root: append the root to the file, or give it separately (moat serve --server-ca)", root.Subject)
		}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return nil, partErr(rootPart, "certificate %s does not verify to the root %s: %v", leaf.Subject, root.Subject, err)
	}
	return &OperatorCert{Chain: chain, Key: key, Root: root}, nil
}

// parseCertBlocks parses data made only of CERTIFICATE PEM blocks.
func parseCertBlocks(data []byte) ([]*x509.Certificate, error) {
	blocks, err := decodePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d: type %q, want CERTIFICATE", i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", i+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// checkOperatorKey accepts RSA keys of at least 2048 bits and ECDSA keys on
// P-256 or P-384: what TLS clients of AWS IoT (and Go) all handle.
func checkOperatorKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key of %d bits is too small (minimum %d)", k.N.BitLen(), MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return errors.New("ECDSA curve is not allowed (want P-256 or P-384)")
	}
	return fmt.Errorf("key type %T is not allowed (want RSA or ECDSA)", pub)
}

// isSelfSigned reports whether c is issued by itself and its signature
// verifies with its own key.
func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// Uncovered returns the hostnames (DNS names or IP addresses) the leaf is
// not valid for, in the order given. Wildcards in the leaf match as in
// x509.Certificate.VerifyHostname.
func (o *OperatorCert) Uncovered(hostnames []string) []string {
	var out []string
	for _, h := range hostnames {
		if o.Leaf().VerifyHostname(h) != nil {
			out = append(out, h)
		}
	}
	return out
}

// CheckCovers returns the hostnames the leaf does not cover, or an error
// if it covers none of them: a server nobody can reach by a configured name
// is a mistake, a partial match only deserves a warning.
func (o *OperatorCert) CheckCovers(hostnames []string) ([]string, error) {
	missing := o.Uncovered(hostnames)
	if len(hostnames) > 0 && len(missing) == len(hostnames) {
		return missing, partErr(PartCert, "certificate %s covers none of the host names %v (it is for DNS %v, IP %v)",
			o.Leaf().Subject, hostnames, o.Leaf().DNSNames, ipStrings(o.Leaf().IPAddresses))
	}
	return missing, nil
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// useOperator is LoadOrCreate with Options.Operator set. moat's own root CA
// is loaded or created as usual and parked in root-ca.moat.pem (so that
// dropping --server-cert later brings it back, see unparkMoatRoot); the
// device CA is loaded or created as usual; root-ca.pem gets the operator's
// root; server.pem and server.key are left alone.
func (a *Authority) useOperator() error {
	op := a.opts.Operator
	parked := a.path(MoatRootCertFile)
	ok, err := exists(parked)
	if err != nil {
		return err
	}
	var moatRoot *x509.Certificate
	if !ok {
		var err error
		if moatRoot, _, err = a.loadOrCreateCA(RootCertFile, RootKeyFile, "moat Root CA", a.opts.ServerKeyType,
			func(now time.Time) time.Time { return now.Add(RootValidity) }); err != nil {
			return err
		}
		if err := writeFileAtomic(parked, pemCert(moatRoot.Raw), certMode); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		a.report.Created = append(a.report.Created, parked)
	}
	if a.device, a.deviceKey, err = a.loadOrCreateCA(DeviceCertFile, DeviceKeyFile, "moat Device CA", a.opts.DeviceKeyType,
		func(time.Time) time.Time { return DeviceNotAfter }); err != nil {
		return err
	}
	if moatRoot != nil && publicKeysEqual(moatRoot.PublicKey, a.device.PublicKey) {
		return fmt.Errorf("pki: %s and %s hold the same key; the device CA must be separate from the root CA",
			a.path(RootKeyFile), a.path(DeviceKeyFile))
	}

	a.root, a.rootPEM = op.Root, pemCert(op.Root.Raw)
	if cur, err := os.ReadFile(a.path(RootCertFile)); err != nil || string(cur) != string(a.rootPEM) {
		if err := writeFileAtomic(a.path(RootCertFile), a.rootPEM, certMode); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		a.report.Warnings = append(a.report.Warnings, fmt.Sprintf(
			"%s now holds the operator's root %s: devices and API clients must trust it (moat's own root is kept in %s)",
			a.path(RootCertFile), op.Root.Subject, parked))
	}
	raw := make([][]byte, len(op.Chain))
	for i, c := range op.Chain {
		raw[i] = c.Raw
	}
	a.server.Store(&tls.Certificate{Certificate: raw, PrivateKey: op.Key, Leaf: op.Leaf()})

	missing, err := op.CheckCovers(a.opts.hostnames())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		a.report.Warnings = append(a.report.Warnings, fmt.Sprintf(
			"the server certificate %s does not cover the host names %v: clients connecting by those names will refuse it", op.Leaf().Subject, missing))
	}
	if a.opts.now().Add(RenewBefore).After(op.Leaf().NotAfter) {
		a.report.Warnings = append(a.report.Warnings, fmt.Sprintf(
			"the server certificate %s expires on %s and moat does not renew an operator's certificate",
			op.Leaf().Subject, op.Leaf().NotAfter.UTC().Format(time.RFC3339)))
	}
	return nil
}

// unparkMoatRoot undoes useOperator's parking: if root-ca.moat.pem exists,
// moat's own root goes back to root-ca.pem and root-ca.moat.pem is removed.
func (a *Authority) unparkMoatRoot() error {
	parked := a.path(MoatRootCertFile)
	ok, err := exists(parked)
	if err != nil || !ok {
		return err
	}
	data, err := os.ReadFile(parked)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := writeFileAtomic(a.path(RootCertFile), data, certMode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Remove(parked); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	a.report.Warnings = append(a.report.Warnings, fmt.Sprintf(
		"%s holds moat's own root CA again (restored from %s): devices and API clients must trust it instead of the operator's root",
		a.path(RootCertFile), parked))
	return nil
}

// hostnames are the configured names as given, "localhost" if none: the
// names an operator certificate is checked against (the loopback addresses
// moat adds to its own certificate are not required of it).
func (o Options) hostnames() []string {
	if len(o.Hostnames) == 0 {
		return []string{"localhost"}
	}
	return o.Hostnames
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
