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
	KindRole                        // temporary credentials of a role session (SigV4 with a session token)
	KindAuthorizer                  // a custom authorizer's answer (token, username/password)
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindCertificate:
		return "certificate"
	case KindRole:
		return "role"
	case KindAuthorizer:
		return "authorizer"
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
	// Session is the role session of temporary credentials (KindRole;
	// AccessKeyID is its ASIA... key id).
	Session *Session
	// Grant is a custom authorizer's answer (KindAuthorizer).
	Grant *Grant
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
	case KindRole:
		if p.Session != nil {
			s := "assumed-role/" + p.Session.RoleName + "/" + p.Session.SessionName
			if p.Session.IdentityID != "" {
				s += " (identity " + p.Session.IdentityID + ")"
			}
			return s
		}
	case KindAuthorizer:
		if p.Grant != nil {
			return "authorizer/" + p.Grant.AuthorizerName + "/" + p.Grant.PrincipalID
		}
	}
	return "anonymous"
}

// Authenticator authenticates requests against the store.
type Authenticator struct {
	st      store.Store
	region  string
	account string
	keys    keyCache
	session sessionKeyCache
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

// keyLookup resolves an access key id to its secret: a user's access key
// from the store (cached), temporary credentials from their session token.
func (a *Authenticator) keyLookup(userName *string, session **Session) sigv4.Lookup {
	return func(ctx context.Context, id, token string) (sigv4.Credential, error) {
		if IsTemporaryKeyID(id) {
			sess, secret, err := a.openSession(ctx, id, token)
			if err != nil {
				return sigv4.Credential{}, err
			}
			*session = sess
			return sigv4.Credential{Secret: secret, SessionToken: token}, nil
		}
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
	p, _, err := a.SigV4Result(ctx, r, body, services...)
	return p, err
}

// SigV4Result is SigV4 that also returns what the verifier saw (presigned
// or not, when it was signed, when a presigned URL expires).
func (a *Authenticator) SigV4Result(ctx context.Context, r *http.Request, body []byte, services ...string) (Principal, sigv4.Result, error) {
	var user string
	var sess *Session
	v := sigv4.Verifier{Lookup: a.keyLookup(&user, &sess), Services: services, Region: a.region}
	res, err := v.Verify(ctx, r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return Principal{}, res, &awsapi.Error{Code: awsapi.Code(se.Code), Message: se.Message, Status: se.HTTPStatus(), Cause: err}
		}
		return Principal{}, res, awsapi.Internal(err)
	}
	if sess != nil {
		return Principal{Kind: KindRole, AccessKeyID: res.AccessKeyID, Service: res.Service, Session: sess}, res, nil
	}
	return Principal{Kind: KindUser, UserName: user, AccessKeyID: res.AccessKeyID, Service: res.Service}, res, nil
}

// Account is the account id of the deployment.
func (a *Authenticator) Account() string { return a.account }

// Region is the deployment's region.
func (a *Authenticator) Region() string { return a.region }
