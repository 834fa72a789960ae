package pki

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// KeyType is the algorithm and size of a generated private key.
type KeyType int

const (
	// ECDSAP256 is an ECDSA key on NIST P-256 (the default, and the zero value).
	ECDSAP256 KeyType = iota
	// RSA2048 is a 2048-bit RSA key with exponent 65537.
	RSA2048
	// RSA3072 is a 3072-bit RSA key with exponent 65537 (server keys only).
	RSA3072
)

// String returns the name accepted by ParseKeyType.
func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "ecdsa-p256"
	case RSA2048:
		return "rsa-2048"
	case RSA3072:
		return "rsa-3072"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// ParseKeyType parses the names returned by KeyType.String, for flags.
func ParseKeyType(s string) (KeyType, error) {
	// The short names used by moat's flags (--server-key-type ecdsa|rsa|rsa2048|rsa3072).
	switch strings.ToLower(s) {
	case "ecdsa", "ec", "p256", "p-256":
		return ECDSAP256, nil
	case "rsa", "rsa2048":
		return RSA2048, nil
	case "rsa3072":
		return RSA3072, nil
	}
	for _, k := range []KeyType{ECDSAP256, RSA2048, RSA3072} {
		if strings.EqualFold(s, k.String()) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("pki: unknown key type %q (want ecdsa-p256, rsa-2048 or rsa-3072)", s)
}

// Validity periods and thresholds. They are constants, not options: they
// describe what moat issues and are documented in the report of each function.
const (
	// RootValidity is how long a new root CA is valid.
	RootValidity = 10 * 365 * 24 * time.Hour
	// ServerValidity is how long a server certificate is valid: 398 days, the
	// CA/Browser Forum maximum that browsers and TLS libraries accept.
	ServerValidity = 398 * 24 * time.Hour
	// RenewBefore is how long before its NotAfter a server certificate is
	// reissued by LoadOrCreate and RenewIfNeeded.
	RenewBefore = 30 * 24 * time.Hour
	// backdate is subtracted from "now" for NotBefore, to tolerate clock skew.
	backdate = time.Hour
)

// DeviceNotAfter is the NotAfter of every device certificate, and of the
// device CA: AWS IoT issues certificates valid until 2049-12-31T23:59:59Z.
var DeviceNotAfter = time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)

// Options configure LoadOrCreate. The zero value of each field is a usable
// default except Dir, which is required.
type Options struct {
	// Dir is the data dir holding the PKI files. It is created with mode 0700
	// if missing. LoadOrCreate refuses a directory that is group- or
	// world-writable (on Unix): anyone who can write there could replace the
	// root CA.
	Dir string

	// Hostnames are the DNS names and IP addresses the server certificate is
	// valid for. Empty means "localhost". 127.0.0.1 and ::1 are always added.
	// A DNS name may start with "*." (a wildcard). Names are compared
	// case-insensitively; a trailing dot is dropped. The first DNS name is the
	// certificate's common name.
	Hostnames []string

	// ServerKeyType is the key type of the server certificate, and of the
	// root CA when it is created. Zero is ECDSAP256.
	ServerKeyType KeyType

	// DeviceKeyType is the key type of keys made by CreateKeysAndCertificate,
	// and of the device CA when it is created. ECDSAP256 (zero) or RSA2048.
	DeviceKeyType KeyType

	// Operator, if not nil, is the operator's server certificate: it is
	// served instead of server.pem and never renewed, and its Root is
	// written to root-ca.pem (moat's own root CA is parked in
	// root-ca.moat.pem meanwhile; see the package documentation).
	// Hostnames must not all be outside it.
	Operator *OperatorCert

	// Now returns the current time; nil means time.Now. A test seam.
	Now func() time.Time
}

// Validate reports whether the options can be used.
func (o Options) Validate() error {
	if o.Dir == "" {
		return fmt.Errorf("pki: options: Dir is required")
	}
	switch o.ServerKeyType {
	case ECDSAP256, RSA2048, RSA3072:
	default:
		return fmt.Errorf("pki: options: invalid ServerKeyType %v", o.ServerKeyType)
	}
	switch o.DeviceKeyType {
	case ECDSAP256, RSA2048:
	default:
		return fmt.Errorf("pki: options: invalid DeviceKeyType %v (want ecdsa-p256 or rsa-2048)", o.DeviceKeyType)
	}
	if _, _, err := normalizeHostnames(o.Hostnames); err != nil {
		return err
	}
	if o.Operator != nil {
		if _, err := o.Operator.CheckCovers(o.hostnames()); err != nil {
			return err
		}
	}
	return nil
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// normalizeHostnames splits hostnames into DNS names and IPs, lower-cased,
// de-duplicated, with the defaults added.
func normalizeHostnames(hosts []string) (dns []string, ips []net.IP, err error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	hosts = append(append([]string(nil), hosts...), "127.0.0.1", "::1")
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
			continue
		}
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if err := checkDNSName(h); err != nil {
			return nil, nil, err
		}
		if !seen[h] {
			seen[h] = true
			dns = append(dns, h)
		}
	}
	return dns, ips, nil
}

// checkDNSName accepts a lower-case DNS name of letters, digits, '-' and '_'
// labels, optionally starting with a "*." wildcard label.
func checkDNSName(h string) error {
	bad := func(why string) error { return fmt.Errorf("pki: invalid hostname %q: %s", h, why) }
	if h == "" {
		return bad("empty")
	}
	if len(h) > 253 {
		return bad("longer than 253 characters")
	}
	for i, label := range strings.Split(h, ".") {
		if label == "*" && i == 0 && strings.Contains(h, ".") {
			continue
		}
		if label == "" || len(label) > 63 {
			return bad("empty label or label longer than 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return bad("label starts or ends with '-'")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return bad(fmt.Sprintf("character %q not allowed", c))
			}
		}
	}
	return nil
}
