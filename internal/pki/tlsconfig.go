package pki

import (
	"crypto/tls"
	"fmt"
)

// CipherSuites are the TLS 1.2 cipher suites moat offers: ECDHE (forward
// secrecy) with an AEAD (AES-GCM or ChaCha20-Poly1305) only, ECDSA first. The
// CBC and static-RSA suites AWS still lists are left out on purpose. TLS 1.3
// suites are not configurable in Go and are all AEAD.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// BaseTLSConfig returns a new server tls.Config: TLS 1.2 minimum, the AEAD
// CipherSuites for TLS 1.2, GetCertificate serving the current server
// certificate (so RenewIfNeeded takes effect without a restart), and session
// tickets disabled (AWS IoT does not support them; a resumed session would
// also skip the certificate checks of ServerTLSConfig's VerifyConnection —
// see crypto/tls: VerifyConnection runs on resumption, VerifyPeerCertificate
// does not). No client certificate is requested; see ServerTLSConfig.
// The caller may set NextProtos and other fields on the returned copy.
func (a *Authority) BaseTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		CipherSuites:           append([]uint16(nil), CipherSuites...),
		GetCertificate:         a.GetCertificate,
		SessionTicketsDisabled: true,
	}
}

// ServerTLSConfig returns BaseTLSConfig with client certificates requested.
// clientAuth must be tls.RequestClientCert (HTTPS: SigV4 or device
// certificate) or tls.RequireAnyClientCert (MQTT over TLS): device
// certificates are not verified against any CA here, because in moat, as in
// AWS IoT, a certificate is trusted because it is registered and ACTIVE, not
// because of who signed it. TLS itself still proves that the client holds the
// certificate's private key.
//
// verify, if not nil, becomes VerifyConnection: it runs after every full
// handshake (and would on resumption) and must look the leaf
// (cs.PeerCertificates[0], identified by CertificateID) up, check its status
// and validity period, and return an error to abort the handshake. With
// RequestClientCert it is called with no peer certificates for clients that
// sent none.
func (a *Authority) ServerTLSConfig(clientAuth tls.ClientAuthType, verify func(tls.ConnectionState) error) (*tls.Config, error) {
	switch clientAuth {
	case tls.RequestClientCert, tls.RequireAnyClientCert:
	default:
		return nil, fmt.Errorf("pki: client auth %v is not supported: use RequestClientCert or RequireAnyClientCert and check the certificate in verify", clientAuth)
	}
	cfg := a.BaseTLSConfig()
	cfg.ClientAuth = clientAuth
	cfg.VerifyConnection = verify
	return cfg, nil
}
