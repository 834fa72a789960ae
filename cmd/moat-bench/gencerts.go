package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// certsConfig holds the gencerts flags.
type certsConfig struct {
	out, prefix, names, keyType string
	pubs, subs, conns, idle     int
	server                      bool
	days                        int
}

// ids returns every client id to make a certificate for, in the benchmark's
// naming scheme, then -names.
func (g *certsConfig) ids() []string {
	var ids []string
	for i := range g.pubs {
		ids = append(ids, pubID(g.prefix, i))
	}
	for i := range g.subs {
		ids = append(ids, subID(g.prefix, i))
	}
	for i := range g.conns {
		ids = append(ids, connID(g.prefix, i))
	}
	for i := range g.idle {
		ids = append(ids, idleID(g.prefix, i))
	}
	for n := range strings.SplitSeq(g.names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			ids = append(ids, n)
		}
	}
	return ids
}

func parseCertsConfig(args []string, out io.Writer) (*certsConfig, error) {
	g := &certsConfig{}
	fs := flag.NewFlagSet("moat-bench gencerts", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&g.out, "out", "", "output `dir` (required): ca.crt/.key, server.crt/.key, <clientid>.crt/.key")
	fs.StringVar(&g.prefix, "clientid-prefix", "bench-", "client id prefix, as given to the benchmark modes")
	fs.StringVar(&g.names, "names", "", "extra client ids, comma-separated")
	fs.StringVar(&g.keyType, "key-type", "ecdsa-p256", "key type of every key: ecdsa-p256, rsa-2048 or rsa-3072 (match the broker under test's server key)")
	fs.IntVar(&g.pubs, "pubs", 10, "publisher identities (<prefix>pub-N)")
	fs.IntVar(&g.subs, "subs", 10, "subscriber identities (<prefix>sub-N)")
	fs.IntVar(&g.conns, "conns", 16, "connect-mode worker identities (<prefix>conn-N)")
	fs.IntVar(&g.idle, "idle", 0, "idle-mode identities (<prefix>idle-N)")
	fs.BoolVar(&g.server, "server", true, "also make server.crt/.key for 127.0.0.1, ::1 and localhost (for Mosquitto)")
	fs.IntVar(&g.days, "days", 30, "validity in days")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var errs []error
	if g.out == "" {
		errs = append(errs, errors.New("-out: required"))
	}
	if g.pubs < 0 || g.subs < 0 || g.conns < 0 || g.idle < 0 || g.idle > 1000000 {
		errs = append(errs, errors.New("-pubs, -subs, -conns, -idle: want 0..1000000"))
	}
	if _, err := newKey(g.keyType, true); err != nil {
		errs = append(errs, fmt.Errorf("-key-type: %w", err))
	}
	if g.days < 1 {
		errs = append(errs, fmt.Errorf("-days: %d: want >= 1", g.days))
	}
	if strings.ContainsAny(g.prefix+g.names, "/\x00") {
		errs = append(errs, errors.New("-clientid-prefix, -names: no / or NUL (they name files)"))
	}
	return g, errors.Join(errs...)
}

// newKey makes a key of type kt; dry only checks kt.
func newKey(kt string, dry bool) (crypto.Signer, error) {
	switch kt {
	case "ecdsa-p256":
		if dry {
			return nil, nil
		}
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa-2048", "rsa-3072":
		if dry {
			return nil, nil
		}
		bits := 2048
		if kt == "rsa-3072" {
			bits = 3072
		}
		return rsa.GenerateKey(rand.Reader, bits)
	}
	return nil, fmt.Errorf("%q: want ecdsa-p256, rsa-2048 or rsa-3072", kt)
}

// issuer signs certificates.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
	days int
}

// genCerts writes the CA (reused if out already has one), the server
// certificate and one client certificate per id with CN=<id>, skipping
// ids whose files exist. Work is spread over every CPU.
func genCerts(g *certsConfig, log io.Writer) error {
	if err := os.MkdirAll(g.out, 0o755); err != nil {
		return err
	}
	ca, err := loadOrMakeCA(g)
	if err != nil {
		return err
	}
	if g.server {
		tmpl := leaf("moat-bench server", g.days)
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		if err := ca.issue(tmpl, g.keyType, filepath.Join(g.out, "server")); err != nil {
			return err
		}
	}
	ids := g.ids()
	work := make(chan string)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for id := range work {
				base := filepath.Join(g.out, id)
				if _, err := os.Stat(base + ".key"); err == nil {
					continue
				}
				tmpl := leaf(id, g.days)
				tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
				if err := ca.issue(tmpl, g.keyType, base); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	fmt.Fprintf(log, "gencerts: %s: ca.crt, %d client identities (CN=<clientid>, %s)%s\n", g.out, len(ids), g.keyType,
		map[bool]string{true: ", server.crt (127.0.0.1, ::1, localhost)"}[g.server])
	return nil
}

func leaf(cn string, days int) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 0, days),
		KeyUsage: x509.KeyUsageDigitalSignature}
}

func loadOrMakeCA(g *certsConfig) (*issuer, error) {
	crt, key := filepath.Join(g.out, "ca.crt"), filepath.Join(g.out, "ca.key")
	if pair, err := tls.LoadX509KeyPair(crt, key); err == nil {
		signer, ok := pair.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: not a signing key", key)
		}
		return &issuer{cert: pair.Leaf, key: signer, days: g.days}, nil
	}
	tmpl := leaf("moat-bench CA", g.days+1)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	k, err := newKey(g.keyType, false)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := writePEM(crt, key, der, k); err != nil {
		return nil, err
	}
	return &issuer{cert: cert, key: k, days: g.days}, nil
}

// issue makes a key, signs tmpl for it and writes base.crt and base.key.
func (ca *issuer) issue(tmpl *x509.Certificate, kt, base string) error {
	k, err := newKey(kt, false)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, k.Public(), ca.key)
	if err != nil {
		return fmt.Errorf("sign %s: %w", tmpl.Subject.CommonName, err)
	}
	return writePEM(base+".crt", base+".key", der, k)
}

func writePEM(crtPath, keyPath string, der []byte, k crypto.Signer) error {
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
