package rolealias

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// CredentialsPath is the credentials provider's route (a net/http
// ServeMux pattern), as AWS serves it on the iot:CredentialProvider
// endpoint.
const CredentialsPath = "/role-aliases/{roleAlias}/credentials"

// ThingNameHeader optionally names the device's thing.
const ThingNameHeader = "X-Amzn-Iot-Thingname" // x-amzn-iot-thingname

// AssumeAction is the IoT policy action the device's policies must allow
// on the role alias's ARN.
const AssumeAction = "iot:AssumeRoleWithCertificate"

// Condition keys of the role's trust policy set for the credentials
// provider (AWS's credentials-iot: keys).
const (
	KeyThingName     = "credentials-iot:ThingName"
	KeyThingTypeName = "credentials-iot:ThingTypeName"
	KeyCertificateID = "credentials-iot:AwsCertificateId"
)

// Authenticator authenticates device certificates and mints temporary
// credentials (auth.Authenticator).
type Authenticator interface {
	Certificate(ctx context.Context, chain []*x509.Certificate) (auth.Principal, error)
	Mint(ctx context.Context, s auth.Session) (auth.Credentials, error)
}

var _ Authenticator = (*auth.Authenticator)(nil)

// AuthorizeFunc decides an IoT policy action for a device certificate
// principal making an HTTPS request from remote: the device's IoT
// policies, as internal/access decides them (see GateAuthorizer).
type AuthorizeFunc func(ctx context.Context, p auth.Principal, remote net.Addr, action, resource string) (bool, error)

// Endpoint is the credentials provider: an http.Handler for
// CredentialsPath on the HTTPS listener, which must ask for client
// certificates. For a GET it checks, in AWS's order, and answers each
// failure as AWS does (JSON {"message": ...}):
//
//  1. the client certificate: registered and ACTIVE (403 "Certificate is
//     invalid on this endpoint"; 403 without one);
//  2. the x-amzn-iot-thingname header, if sent: a thing the certificate is
//     attached to (403 "Invalid thing name passed");
//  3. the device's IoT policies allow iot:AssumeRoleWithCertificate on the
//     role alias ARN (403 "Access Denied"), asked before the alias is
//     looked up, so that a device learns nothing of aliases it may not use;
//  4. the alias exists (404 "Role alias does not exist");
//  5. its role exists and trusts {"Service": "credentials.iot.amazonaws.com"}
//     (400 "Unable to assume the role, or the role to assume does not
//     exist"), and the alias's duration is within the role's maximum
//     session (400).
//
// Then it answers {"credentials": {"accessKeyId", "secretAccessKey",
// "sessionToken", "expiration"}} (RFC 3339, UTC) for the session
// role/CERTIFICATE_ID, whose claims carry the certificate ARN and the
// thing name (credentials-iot:ThingName in the role's policies).
type Endpoint struct {
	Aliases   *Service
	Auth      Authenticator
	Authorize AuthorizeFunc
	// Logger receives a line per refusal (with its cause); nil means
	// slog.Default().
	Logger *slog.Logger
}

// credentialsOutput is the credentials provider's answer.
type credentialsOutput struct {
	Credentials struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		Expiration      string `json:"expiration"`
	} `json:"credentials"`
}

// refusal is an answer other than 200.
type refusal struct {
	status  int
	code    awsapi.Code // the X-Amzn-ErrorType header
	message string
	cause   error // logged, never sent
}

func (r *refusal) Error() string { return r.message }

func refuse(status int, code awsapi.Code, message string, cause error) *refusal {
	return &refusal{status: status, code: code, message: message, cause: cause}
}

// ServeHTTP serves one credentials request.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set(awsapi.RequestIDHeader, id)
	if r.Method != http.MethodGet {
		e.write(w, r, id, refuse(http.StatusMethodNotAllowed, awsapi.MethodNotAllowed, "Method "+r.Method+" is not allowed; use GET.", nil))
		return
	}
	out, err := e.credentials(r.Context(), r)
	if err != nil {
		var rf *refusal
		if !errors.As(err, &rf) {
			rf = refuse(http.StatusInternalServerError, awsapi.InternalFailure, "Internal failure. Request id "+id+".", err)
		}
		e.write(w, r, id, rf)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		e.write(w, r, id, refuse(http.StatusInternalServerError, awsapi.InternalFailure, "Internal failure.", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (e *Endpoint) credentials(ctx context.Context, r *http.Request) (*credentialsOutput, error) {
	// 1. The certificate.
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, refuse(http.StatusForbidden, awsapi.AccessDenied, "Missing client certificate.", nil)
	}
	p, err := e.Auth.Certificate(ctx, r.TLS.PeerCertificates)
	if err != nil {
		if errors.Is(err, auth.ErrNoCertificate) || errors.Is(err, auth.ErrUnknownCertificate) ||
			errors.Is(err, auth.ErrCertificateNotActive) || errors.Is(err, auth.ErrCertificateExpired) {
			return nil, refuse(http.StatusForbidden, awsapi.AccessDenied, "Certificate is invalid on this endpoint", err)
		}
		return nil, err
	}
	name := r.PathValue("roleAlias")
	// 2. The thing.
	thing, thingType := r.Header.Get(ThingNameHeader), ""
	if thing != "" {
		var ok bool
		if ok, thingType, err = e.Aliases.thingOf(ctx, thing, p.CertificateARN); err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(http.StatusForbidden, awsapi.Forbidden, "Invalid thing name passed", fmt.Errorf("thing %q is not attached to %s", thing, p.CertificateARN))
		}
	}
	// 3. The device's IoT policies.
	aliasARN := e.Aliases.ARN(name)
	ok, err := e.Authorize(ctx, p, remoteAddr(r.RemoteAddr), AssumeAction, aliasARN)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(http.StatusForbidden, awsapi.Forbidden, "Access Denied", fmt.Errorf("%s not allowed %s on %s", p.String(), AssumeAction, aliasARN))
	}
	// 4. The alias (a malformed name names none).
	alias, err := e.Aliases.Describe(ctx, name)
	if awsapi.Is(err, awsapi.ResourceNotFound) || awsapi.Is(err, awsapi.InvalidRequest) {
		return nil, refuse(http.StatusNotFound, awsapi.ResourceNotFound, "Role alias does not exist", err)
	}
	if err != nil {
		return nil, err
	}
	// 5. The role.
	role, err := e.Aliases.roles.RoleByARN(ctx, alias.RoleARN)
	if errors.Is(err, cognito.ErrNoSuchRole) {
		return nil, refuse(http.StatusBadRequest, awsapi.InvalidRequest, "Unable to assume the role, or the role to assume does not exist", err)
	}
	if err != nil {
		return nil, err
	}
	vars := &policy.Vars{}
	vars.Set(KeyCertificateID, p.CertificateID)
	if thing != "" {
		vars.Set(KeyThingName, thing)
		if thingType != "" {
			vars.Set(KeyThingTypeName, thingType)
		}
	}
	if role.Trusts == nil || !role.Trusts("Service", cognito.CredentialsProviderPrincipal, vars) {
		return nil, refuse(http.StatusBadRequest, awsapi.InvalidRequest, "Unable to assume the role, or the role to assume does not exist",
			fmt.Errorf("the trust policy of %s does not trust %s", role.ARN, cognito.CredentialsProviderPrincipal))
	}
	life := time.Duration(alias.DurationSeconds) * time.Second
	max := role.MaxSessionDuration
	if max == 0 {
		max = time.Hour // IAM's default
	}
	if life > max {
		return nil, refuse(http.StatusBadRequest, awsapi.InvalidRequest, "The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role", nil)
	}
	now := e.Aliases.now()
	creds, err := e.Auth.Mint(ctx, auth.Session{
		RoleName: role.Name, RoleARN: role.ARN, RoleID: role.ID, SessionName: p.CertificateID, Source: auth.SourceCredentialsProvider,
		SourceARN: p.CertificateARN, ThingName: thing, IssuedAt: now, Expiration: now.Add(life),
	})
	if err != nil {
		return nil, err
	}
	var out credentialsOutput
	c := &out.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	c.Expiration = creds.Expiration.UTC().Format(time.RFC3339)
	return &out, nil
}

// thingOf reports whether thing exists with principal attached to it, and
// its type.
func (s *Service) thingOf(ctx context.Context, thing, principal string) (bool, string, error) {
	if names.Thing("thingName", thing) != nil {
		return false, "", nil
	}
	var attached bool
	var typ string
	err := s.st.View(ctx, func(tx store.Tx) error {
		t, err := tx.Thing(thing)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for p := (store.Page{Limit: 100}); ; {
			ps, next, err := tx.ThingPrincipals(thing, p)
			if err != nil {
				return err
			}
			for _, tp := range ps {
				if tp.Principal == principal {
					attached, typ = true, t.TypeName
					return nil
				}
			}
			if next == "" {
				return nil
			}
			p.After = next
		}
	})
	return attached, typ, err
}

func (e *Endpoint) write(w http.ResponseWriter, r *http.Request, id string, rf *refusal) {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{rf.message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", string(rf.code))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rf.status)
	_, _ = w.Write(body)
	attrs := []any{"alias", r.PathValue("roleAlias"), "status", rf.status, "message", rf.message, "request_id", id, "remote", r.RemoteAddr}
	if rf.cause != nil {
		attrs = append(attrs, "cause", rf.cause.Error())
	}
	lvl := slog.LevelInfo
	if rf.status >= 500 {
		lvl = slog.LevelError
	}
	e.log().Log(r.Context(), lvl, "credentials provider refused", attrs...)
}

func (e *Endpoint) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

// remoteAddr is a request's RemoteAddr as a net.Addr.
type remoteAddr string

func (a remoteAddr) Network() string { return "tcp" }
func (a remoteAddr) String() string  { return string(a) }
