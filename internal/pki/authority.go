package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Authority is the data dir's PKI after LoadOrCreate: the root CA, the server
// certificate it signed, and the device CA. It is safe for concurrent use.
type Authority struct {
	opts Options
	dns  []string // normalized server DNS names
	ips  []net.IP // normalized server IPs

	root    *x509.Certificate
	rootKey crypto.Signer
	rootPEM []byte

	device    *x509.Certificate
	deviceKey crypto.Signer

	mu     sync.Mutex // serializes server certificate issuance
	server atomic.Pointer[tls.Certificate]

	report Report // written by LoadOrCreate only
}

// Report says what LoadOrCreate did, for the caller to log.
type Report struct {
	// Created lists the files written for the first time, as full paths.
	Created []string
	// ServerIssued says why a server certificate was issued; empty if the
	// existing one was reused.
	ServerIssued string
	// Warnings are problems that do not stop the server (for example a root CA
	// close to its expiry).
	Warnings []string
}

// LoadOrCreate loads the PKI from opts.Dir, creating what is missing: see the
// package documentation for the files and the rules. It never overwrites a CA.
// Errors name the offending file.
func LoadOrCreate(opts Options) (*Authority, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := prepareDir(opts.Dir); err != nil {
		return nil, err
	}
	dns, ips, _ := normalizeHostnames(opts.Hostnames) // checked by Validate
	a := &Authority{opts: opts, dns: dns, ips: ips}
	if opts.Operator != nil {
		if err := a.useOperator(); err != nil {
			return nil, err
		}
		return a, nil
	}
	if err := a.unparkMoatRoot(); err != nil {
		return nil, err
	}

	var err error
	a.root, a.rootKey, err = a.loadOrCreateCA(RootCertFile, RootKeyFile, "moat Root CA", opts.ServerKeyType,
		func(now time.Time) time.Time { return now.Add(RootValidity) })
	if err != nil {
		return nil, err
	}
	a.rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.root.Raw})
	a.device, a.deviceKey, err = a.loadOrCreateCA(DeviceCertFile, DeviceKeyFile, "moat Device CA", opts.DeviceKeyType,
		func(time.Time) time.Time { return DeviceNotAfter })
	if err != nil {
		return nil, err
	}
	if publicKeysEqual(a.root.PublicKey, a.device.PublicKey) {
		return nil, fmt.Errorf("pki: %s and %s hold the same key; the device CA must be separate from the root CA",
			a.path(RootKeyFile), a.path(DeviceKeyFile))
	}
	if err := a.loadOrIssueServer(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authority) path(name string) string { return filepath.Join(a.opts.Dir, name) }

// loadOrCreateCA loads a CA certificate and key, or creates both if neither
// file exists. Exactly one of them existing is an error: moat does not guess
// which CA was meant.
func (a *Authority) loadOrCreateCA(certName, keyName, cnPrefix string, kt KeyType, notAfter func(time.Time) time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := a.path(certName), a.path(keyName)
	haveCert, err := exists(certPath)
	if err != nil {
		return nil, nil, err
	}
	haveKey, err := exists(keyPath)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !haveCert && !haveKey:
		return a.createCA(certPath, keyPath, cnPrefix, kt, notAfter)
	case haveCert != haveKey:
		have, missing := certPath, keyPath
		if haveKey {
			have, missing = keyPath, certPath
		}
		return nil, nil, fmt.Errorf("pki: %s exists but %s is missing: restore it from a backup, or remove %s to create a new CA (clients trusting the old one must then be updated)",
			have, missing, have)
	}

	keyPEM, err := readKeyFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s: not a usable private key: %v", keyPath, err)
	}
	cert, err := readCertFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, fmt.Errorf("pki: %s: not a CA certificate (needs basic constraints CA:TRUE and key usage keyCertSign)", certPath)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("pki: %s does not match %s: %w", keyPath, certPath, errNoMatch)
	}
	now := a.opts.now()
	if now.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("pki: %s expired on %s", certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Add(RenewBefore).After(cert.NotAfter) {
		a.report.Warnings = append(a.report.Warnings, fmt.Sprintf("%s expires on %s and is not renewed automatically",
			certPath, cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	return cert, key, nil
}

// createCA makes a self-signed CA that may sign leaf certificates only
// (path length 0), writes the key then the certificate.
func (a *Authority) createCA(certPath, keyPath, cnPrefix string, kt KeyType, notAfter func(time.Time) time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := generateKey(kt)
	if err != nil {
		return nil, nil, err
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	now := a.opts.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"moat"}, CommonName: cnPrefix + " " + hex.EncodeToString(suffix)},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter(now),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create %s: %w", certPath, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create %s: %w", certPath, err)
	}
	keyPEM, err := privateKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(keyPath, keyPEM, keyMode); err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), certMode); err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	a.report.Created = append(a.report.Created, keyPath, certPath)
	return cert, key, nil
}

// readCertFile reads a file holding exactly one certificate.
func readCertFile(path string) (*x509.Certificate, error) {
	certs, err := readCertChainFile(path)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("pki: %s: want exactly one certificate, found %d", path, len(certs))
	}
	return certs[0], nil
}

// loadOrIssueServer loads server.key and server.pem and reissues the
// certificate if serverReissueReason says so.
func (a *Authority) loadOrIssueServer() error {
	certPath, keyPath := a.path(ServerCertFile), a.path(ServerKeyFile)
	var key crypto.Signer
	var leaf *x509.Certificate
	if ok, err := exists(keyPath); err != nil {
		return err
	} else if ok {
		keyPEM, err := readKeyFile(keyPath)
		if err != nil {
			return err
		}
		if key, err = parsePrivateKeyPEM(keyPEM); err != nil {
			return fmt.Errorf("pki: %s: not a usable private key: %v (remove %s and %s to have them reissued)", keyPath, err, keyPath, certPath)
		}
	}
	if ok, err := exists(certPath); err != nil {
		return err
	} else if ok {
		chain, err := readCertChainFile(certPath)
		if err != nil {
			return err
		}
		leaf = chain[0]
	}
	if key != nil && leaf != nil && !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return fmt.Errorf("pki: %s does not match %s: %w (remove both to have them reissued)", keyPath, certPath, errNoMatch)
	}
	reason := a.serverReissueReason(key, leaf)
	if reason == "" {
		a.server.Store(&tls.Certificate{Certificate: [][]byte{leaf.Raw, a.root.Raw}, PrivateKey: key, Leaf: leaf})
		return nil
	}
	if _, err := a.issueServer(key); err != nil {
		return err
	}
	a.report.ServerIssued = reason
	if key == nil {
		a.report.Created = append(a.report.Created, keyPath)
	}
	if leaf == nil {
		a.report.Created = append(a.report.Created, certPath)
	}
	return nil
}

// serverReissueReason returns why the server certificate must be (re)issued,
// or "" if leaf and key can be used as they are.
func (a *Authority) serverReissueReason(key crypto.Signer, leaf *x509.Certificate) string {
	switch {
	case key == nil:
		return ServerKeyFile + " is missing"
	case leaf == nil:
		return ServerCertFile + " is missing"
	}
	if kt, ok := keyTypeOf(key.Public()); !ok || kt != a.opts.ServerKeyType {
		return "server key type is not " + a.opts.ServerKeyType.String()
	}
	if err := leaf.CheckSignatureFrom(a.root); err != nil {
		return "server certificate is not signed by the current root CA"
	}
	for _, name := range a.dns {
		if !containsFold(leaf.DNSNames, name) {
			return "host name " + name + " is not in the server certificate"
		}
	}
	for _, ip := range a.ips {
		if !containsIP(leaf.IPAddresses, ip) {
			return "IP address " + ip.String() + " is not in the server certificate"
		}
	}
	if a.opts.now().Add(RenewBefore).After(leaf.NotAfter) {
		return "server certificate expires on " + leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	return ""
}

// issueServer signs a new server certificate with the root CA for the
// configured names, reusing key if it has the configured type, writes
// server.key (if new) then server.pem, and makes it the current certificate.
// The caller holds a.mu or has not yet shared a.
func (a *Authority) issueServer(key crypto.Signer) (*tls.Certificate, error) {
	if kt, ok := keyTypeOf(publicOf(key)); key == nil || !ok || kt != a.opts.ServerKeyType {
		var err error
		if key, err = generateKey(a.opts.ServerKeyType); err != nil {
			return nil, err
		}
		keyPEM, err := privateKeyPEM(key)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(a.path(ServerKeyFile), keyPEM, keyMode); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := a.opts.now()
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.Public().(*rsa.PublicKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: a.commonName()},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(ServerValidity),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              a.dns,
		IPAddresses:           a.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.root, key.Public(), a.rootKey)
	if err != nil {
		return nil, fmt.Errorf("pki: issue server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: issue server certificate: %w", err)
	}
	chainPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), a.rootPEM...)
	if err := writeFileAtomic(a.path(ServerCertFile), chainPEM, certMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	cert := &tls.Certificate{Certificate: [][]byte{der, a.root.Raw}, PrivateKey: key, Leaf: leaf}
	a.server.Store(cert)
	return cert, nil
}

func publicOf(key crypto.Signer) crypto.PublicKey {
	if key == nil {
		return nil
	}
	return key.Public()
}

func (a *Authority) commonName() string {
	if len(a.dns) > 0 {
		return a.dns[0]
	}
	return a.ips[0].String()
}

// RenewIfNeeded reissues the server certificate if it expires within
// RenewBefore (or is otherwise unusable, see LoadOrCreate) and reports whether
// it did. Connections made afterwards get the new certificate through
// GetCertificate. Call it periodically (daily is plenty) in a long-running
// server.
//
// With Options.Operator it does nothing: the operator renews their
// certificate and restarts moat.
func (a *Authority) RenewIfNeeded() (bool, error) {
	if a.opts.Operator != nil {
		return false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := a.server.Load()
	key, _ := cur.PrivateKey.(crypto.Signer)
	if a.serverReissueReason(key, cur.Leaf) == "" {
		return false, nil
	}
	if _, err := a.issueServer(key); err != nil {
		return false, err
	}
	return true, nil
}

// GetCertificate returns the current server certificate; it has the signature
// of tls.Config.GetCertificate. The certificate is the same for every SNI
// name: the caller checks SNI if it must.
func (a *Authority) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return a.server.Load(), nil
}

// ServerCertificate returns the current server certificate (leaf, then the
// root) with its key. Do not modify it.
func (a *Authority) ServerCertificate() *tls.Certificate { return a.server.Load() }

// RootPEM returns the root CA certificate in PEM: the content of root-ca.pem
// (the operator's root with Options.Operator).
func (a *Authority) RootPEM() []byte { return append([]byte(nil), a.rootPEM...) }

// RootPath returns the path of root-ca.pem, the file clients pin.
func (a *Authority) RootPath() string { return a.path(RootCertFile) }

// RootCertificate returns the parsed root CA certificate. Do not modify it.
func (a *Authority) RootCertificate() *x509.Certificate { return a.root }

// Report says what LoadOrCreate did.
func (a *Authority) Report() Report { return a.report }

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func containsIP(list []net.IP, ip net.IP) bool {
	for _, v := range list {
		if v.Equal(ip) {
			return true
		}
	}
	return false
}
