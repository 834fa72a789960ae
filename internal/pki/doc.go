// Package pki owns moat's certificates and keys: the data dir's root CA and
// server certificate, the device CA that issues device certificates, CSR
// checks, certificate IDs, and the admin access key.
//
// It is a leaf package: it works on files in the data dir and on bytes, and
// knows nothing about the store, the registry or the listeners.
//
// # Two CAs, two kinds of trust
//
// The root CA (root-ca.pem, root-ca.key) is moat's server identity. It plays
// the part of AmazonRootCA1.pem: devices, the AWS CLI (AWS_CA_BUNDLE) and the
// SDKs pin root-ca.pem and accept the server because its certificate
// (server.pem) chains to it. The root signs server certificates and nothing
// else; it is created once and never replaced or overwritten by moat.
//
// The device CA (device-ca.pem, device-ca.key) only issues the certificates
// returned by CreateKeysAndCertificate and CreateCertificateFromCsr, as AWS's
// "Amazon Web Services O=Amazon.com Inc." issuer does. It is NOT a trust
// anchor for anything: moat never accepts a client because its certificate
// chains to the device CA. As in AWS IoT, a device is authenticated because its
// exact certificate (identified by CertificateID, the SHA-256 of its DER) is
// registered and ACTIVE; an issued certificate that was deleted, revoked or
// never registered is worthless even though the device CA signed it. Keeping
// the two CAs apart means a device certificate can never be mistaken for a
// server certificate by a client pinning root-ca.pem, and the device CA key
// can be treated as a mere issuing key.
//
// Mutual TLS therefore requests any client certificate
// (tls.RequireAnyClientCert or tls.RequestClientCert) and leaves the decision
// to the caller's verify function (see ServerTLSConfig), which looks the
// certificate up by ID. TLS still proves that the client holds the private
// key (CertificateVerify).
//
// # Files in the data dir
//
//	root-ca.pem    0644  root CA certificate (10 years): the trust anchor clients pin
//	root-ca.key    0600  root CA private key
//	server.pem     0644  server certificate (398 days), then root-ca.pem
//	server.key     0600  server private key
//	device-ca.pem  0644  device CA certificate (until 2049-12-31T23:59:59Z)
//	device-ca.key  0600  device CA private key
//	root-ca.moat.pem 0644 moat's root CA certificate, while an operator's root is in root-ca.pem
//
// # An operator's server certificate
//
// With Options.Operator (moat serve --server-cert/--server-key), moat serves
// the operator's chain on every listener instead of server.pem, never renews
// it (RenewIfNeeded does nothing) and reads it again at each start. The
// trust anchor written to root-ca.pem is chosen by one rule: the --server-ca
// certificate if given, else the last certificate of the chain file, which
// must be self-signed (see ParseOperatorCert). The certificate must cover at
// least one configured host name; those it misses are reported as warnings.
// The loopback addresses moat puts in its own certificate are not required.
//
// moat's own root CA is kept meanwhile: its certificate moves to
// root-ca.moat.pem (root-ca.key stays), and the first start without
// Options.Operator moves it back, so server.pem is valid again. The device
// CA is loaded or created as always and keeps issuing device certificates.
//
// The data dir is created 0700 if missing; a group- or world-writable data
// dir, or a private key file readable by group or others, is refused.
//
// # Lifecycle
//
// LoadOrCreate is called once at startup. On a fresh data dir it creates the
// root CA, the device CA and a server certificate for the configured host
// names; later starts load and check them (a corrupt file or a key that does
// not match its certificate is an error naming the file; nothing is
// overwritten). The server certificate alone is reissued from the same root
// when a configured host name is missing from it, when it expires within
// 30 days, when it is not signed by the current root, or when the server key
// type changed. A long-running server may call RenewIfNeeded periodically;
// tls.Config.GetCertificate (see BaseTLSConfig) always returns the current
// certificate.
//
// Every file is written crash-safely (temporary file in the same directory,
// fsync, rename, fsync of the directory); private keys are mode 0600. Only
// one process may use a data dir at a time.
package pki
