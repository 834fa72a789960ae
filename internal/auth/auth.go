// Package auth answers "who is calling": it turns a request's credentials
// (a SigV4 signature now; a device certificate, temporary credentials and
// custom authorizers as those land) into a Principal. It decides nothing
// about what the principal may do: that is internal/policy's job.
//
// Every surface (HTTPS API, MQTT, WebSocket) authenticates through this
// package; none has a shortcut of its own.
package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"github.com/moat-iot/moat/internal/auth/sigv4"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

// Kind is the kind of a principal.
type Kind int

// Principal kinds.
const (
	KindUser        Kind = iota + 1 // a user's access key (SigV4)
	KindCertificate                 // a device X.509 certificate (mutual TLS)
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindCertificate:
		return "certificate"
	}
	return "unknown"
}

// AdminUser is the user name of the administrator made on first start.
const AdminUser = "admin"

// Principal is an authenticated caller.
type Principal struct {
	Kind Kind
	// User principals.
	UserName    string
	AccessKeyID string
	// Service is the SigV4 signing name the request was signed for.
	Service string
	// Certificate principals.
	CertificateID  string
	CertificateARN string
	Certificate    *x509.Certificate
}

// IsAdmin reports whether p is the bootstrap administrator, who may do
// everything.
func (p Principal) IsAdmin() bool { return p.Kind == KindUser && p.UserName == AdminUser }

// String names the principal for logs (never a secret).
func (p Principal) String() string {
	switch p.Kind {
	case KindUser:
		return "user/" + p.UserName + " (" + p.AccessKeyID + ")"
	case KindCertificate:
		return "cert/" + p.CertificateID
	}
	return "anonymous"
}

// Authenticator authenticates requests against the store.
type Authenticator struct {
	st      store.Store
	region  string
	account string
	keys    keyCache
	now     func() time.Time // for tests
	// AutoRegistrar, if set, is asked about unregistered and
	// PENDING_ACTIVATION client certificates (JITR; see Certificate).
	// Set it before serving.
	AutoRegistrar AutoRegistrar
	// CRLs, if set, refuses certificates on their CA's revocation list
	// (see Certificate). Set it before serving.
	CRLs RevocationChecker
}

// New returns an authenticator for one region and account. The region is
// the only one a SigV4 credential scope may name.
func New(st store.Store, region, account string) *Authenticator {
	return &Authenticator{st: st, region: region, account: account, now: time.Now}
}

// ForgetAccessKey drops access key id (every key when id is "") from the
// cache of looked-up keys, so the next request signed with it reads the
// store. Whoever changes or deletes an access key in the store calls it
// after the change is committed; without it the change takes effect
// within a few seconds.
func (a *Authenticator) ForgetAccessKey(id string) { a.keys.forget(id) }

func (a *Authenticator) arnOf(certID string) string {
	return "arn:aws:iot:" + a.region + ":" + a.account + ":cert/" + certID
}

// keyLookup resolves an access key id to its secret.
func (a *Authenticator) keyLookup(userName *string) sigv4.Lookup {
	return func(ctx context.Context, id string) (sigv4.Credential, error) {
		now := a.now()
		if c, ok := a.keys.get(id, now); ok {
			*userName = c.user
			return sigv4.Credential{Secret: c.secret}, nil
		}
		gen := a.keys.generation()
		var k store.AccessKey
		err := a.st.View(ctx, func(tx store.Tx) error {
			var err error
			k, err = tx.AccessKey(id)
			return err
		})
		if errors.Is(err, store.ErrNotFound) || (err == nil && k.Status != "Active") {
			return sigv4.Credential{}, sigv4.ErrUnknownKey
		}
		if err != nil {
			return sigv4.Credential{}, err
		}
		a.keys.put(id, cachedKey{secret: k.Secret, user: k.UserName, expires: now.Add(keyCacheTTL)}, gen)
		*userName = k.UserName
		return sigv4.Credential{Secret: k.Secret}, nil
	}
}

// SigV4 authenticates a SigV4-signed request (header or presigned query
// form) for one of the given signing names. body is the request body the
// caller already read. Failures are *awsapi.Error values with AWS's codes
// (MissingAuthenticationTokenException, InvalidSignatureException,
// UnrecognizedClientException, ...).
func (a *Authenticator) SigV4(ctx context.Context, r *http.Request, body []byte, services ...string) (Principal, error) {
	var user string
	v := sigv4.Verifier{Lookup: a.keyLookup(&user), Services: services, Region: a.region}
	res, err := v.Verify(ctx, r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return Principal{}, &awsapi.Error{Code: awsapi.Code(se.Code), Message: se.Message, Status: se.HTTPStatus(), Cause: err}
		}
		return Principal{}, awsapi.Internal(err)
	}
	return Principal{Kind: KindUser, UserName: user, AccessKeyID: res.AccessKeyID, Service: res.Service}, nil
}
