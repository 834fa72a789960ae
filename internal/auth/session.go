package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/auth/sigv4"
	"github.com/moat-iot/moat/internal/store"
)

// Temporary credentials (STS AssumeRole, Cognito GetCredentialsForIdentity,
// the IoT credentials provider) are stateless, as AWS's are: the session
// token carries the session's claims, sealed with AES-256-GCM under a key
// only the server holds, and the secret access key is an HMAC of the
// access key id under another. Issuing credentials writes nothing; a
// request signed with them is verified without a store read; and a token
// cannot be altered, forged, or used with another access key id. The
// permissions of a session are never in the token: they are the role's
// policies as they are when each request is decided, so a changed role
// policy bites at once.
//
// The two keys are derived from one 32-byte master secret kept in the
// store (kind SecretKind), made on first use, so that every node of a
// deployment sharing the store accepts the credentials any node issued.

// SecretKind is the store object kind of server secrets.
const SecretKind = "moat/secret"

const (
	sessionSecretKey = "session-token-key"
	tokenVersion     = 1
	tokenAAD         = "moat session token v1"
	// MaxSessionTokenLen bounds the tokens openSession will look at.
	MaxSessionTokenLen = 4096
)

// Session is the role session of temporary credentials: who it is and
// for how long. It is what the session token carries.
type Session struct {
	AccessKeyID string `json:"k"`
	RoleName    string `json:"r"`
	RoleARN     string `json:"ra"`
	// RoleID is the role's unique id (AROA...) when the session was
	// issued: a role deleted and made again under the same name is
	// another role, and the old session's credentials do not act as it.
	RoleID      string `json:"rid,omitempty"`
	SessionName string `json:"s"`
	// Source is what issued the credentials: SourceSTS, SourceCognito or
	// SourceCredentialsProvider.
	Source string `json:"src"`
	// SourceARN is the caller that obtained them: the user or role ARN
	// that called AssumeRole, or the certificate ARN of the credentials
	// provider. "" for Cognito.
	SourceARN string `json:"sa,omitempty"`
	// Cognito identities.
	IdentityID     string `json:"i,omitempty"`
	IdentityPoolID string `json:"ip,omitempty"`
	Authenticated  bool   `json:"au,omitempty"`
	// ThingName is the credentials provider's x-amzn-iot-thingname
	// (credentials-iot:ThingName).
	ThingName string `json:"t,omitempty"`
	// Tags are session tags (aws:PrincipalTag/KEY).
	Tags       map[string]string `json:"tg,omitempty"`
	IssuedAt   time.Time         `json:"ia"`
	Expiration time.Time         `json:"ex"`
}

// Sources of temporary credentials.
const (
	SourceSTS                 = "sts"
	SourceCognito             = "cognito-identity"
	SourceCredentialsProvider = "credentials.iot"
)

// ARN is the session's assumed-role ARN, as STS GetCallerIdentity shows it.
func (s *Session) ARN(account string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + s.RoleName + "/" + s.SessionName
}

// Grant is a custom authorizer's answer for one connection or request.
type Grant struct {
	AuthorizerName string
	PrincipalID    string
	// Policies are the IoT policy documents the function returned.
	Policies []string
	// RefreshAfter: re-invoke the function after this long (0: never);
	// DisconnectAfter: the connection's lifetime (0: unlimited).
	RefreshAfter, DisconnectAfter time.Duration
	IssuedAt                      time.Time
}

// Credentials are temporary credentials as the APIs return them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// IsTemporaryKeyID reports whether id names temporary credentials (ASIA...).
func IsTemporaryKeyID(id string) bool { return strings.HasPrefix(id, "ASIA") }

// sessionKeys are the derived keys.
type sessionKeys struct {
	aead cipher.AEAD
	mac  []byte
}

// sessionKeyCache loads the keys from the store once; after that every
// request reads them without a lock.
type sessionKeyCache struct {
	mu     sync.Mutex // serializes loading
	loaded atomic.Pointer[sessionKeys]
}

func (a *Authenticator) keysFor(ctx context.Context) (*sessionKeys, error) {
	c := &a.session
	if k := c.loaded.Load(); k != nil {
		return k, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.loaded.Load(); k != nil {
		return k, nil
	}
	master, err := loadOrMakeSecret(ctx, a.st, sessionSecretKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(hmacSHA256(master, []byte("moat session token encryption")))
	if err != nil {
		return nil, err
	}
	k := &sessionKeys{mac: hmacSHA256(master, []byte("moat session secret access key"))}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	c.loaded.Store(k)
	return k, nil
}

// loadOrMakeSecret returns the 32-byte server secret of this name, making
// it on first use.
func loadOrMakeSecret(ctx context.Context, st store.Store, name string) ([]byte, error) {
	var secret []byte
	err := st.Update(ctx, func(tx store.Tx) error {
		o, err := tx.Object(SecretKind, name)
		if err == nil {
			secret = o.Value
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		now := time.Now().UTC()
		return tx.InsertObject(store.Object{Kind: SecretKind, Key: name, Value: secret, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	if len(secret) != 32 {
		return nil, fmt.Errorf("server secret %s: %d bytes, want 32", name, len(secret))
	}
	return secret, nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// secretFor derives the secret access key of a temporary key id.
func (k *sessionKeys) secretFor(id string) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(k.mac, []byte(id))[:30])
}

// Mint issues temporary credentials for s, which must name its role and
// expiration (IssuedAt defaults to now). The caller has decided that the
// caller may have them.
func (a *Authenticator) Mint(ctx context.Context, s Session) (Credentials, error) {
	if s.RoleName == "" || s.Expiration.IsZero() {
		return Credentials{}, errors.New("auth: mint: session needs a role and an expiration")
	}
	keys, err := a.keysFor(ctx)
	if err != nil {
		return Credentials{}, err
	}
	idBytes := make([]byte, 10)
	if _, err := rand.Read(idBytes); err != nil {
		return Credentials{}, err
	}
	s.AccessKeyID = "ASIA" + base32.StdEncoding.EncodeToString(idBytes)
	if s.IssuedAt.IsZero() {
		s.IssuedAt = a.now()
	}
	s.IssuedAt, s.Expiration = s.IssuedAt.UTC().Truncate(time.Second), s.Expiration.UTC().Truncate(time.Second)
	claims, err := json.Marshal(&s)
	if err != nil {
		return Credentials{}, err
	}
	nonce := make([]byte, keys.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Credentials{}, err
	}
	buf := append([]byte{tokenVersion}, nonce...)
	buf = keys.aead.Seal(buf, nonce, claims, []byte(tokenAAD))
	return Credentials{
		AccessKeyID:     s.AccessKeyID,
		SecretAccessKey: keys.secretFor(s.AccessKeyID),
		SessionToken:    base64.RawURLEncoding.EncodeToString(buf),
		Expiration:      s.Expiration,
	}, nil
}

// openSession verifies a session token for access key id: it must be one
// moat sealed, for this key id, and not expired.
func (a *Authenticator) openSession(ctx context.Context, id, token string) (*Session, string, error) {
	if token == "" || len(token) > MaxSessionTokenLen {
		return nil, "", sigv4.ErrInvalidToken
	}
	keys, err := a.keysFor(ctx)
	if err != nil {
		return nil, "", err
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	ns := keys.aead.NonceSize()
	if err != nil || len(raw) < 1+ns || raw[0] != tokenVersion {
		return nil, "", sigv4.ErrInvalidToken
	}
	claims, err := keys.aead.Open(nil, raw[1:1+ns], raw[1+ns:], []byte(tokenAAD))
	if err != nil {
		return nil, "", sigv4.ErrInvalidToken
	}
	var s Session
	if err := json.Unmarshal(claims, &s); err != nil || !hmac.Equal([]byte(s.AccessKeyID), []byte(id)) {
		return nil, "", sigv4.ErrInvalidToken
	}
	if !a.now().Before(s.Expiration) {
		return nil, "", fmt.Errorf("session %s expired at %s: %w", id, s.Expiration.Format(time.RFC3339), sigv4.ErrExpiredToken)
	}
	return &s, keys.secretFor(id), nil
}

// OpenSession returns the session of temporary credentials (for a
// presigned URL or a token checked outside SigV4); errors wrap
// sigv4.ErrInvalidToken or sigv4.ErrExpiredToken.
func (a *Authenticator) OpenSession(ctx context.Context, id, token string) (*Session, error) {
	s, _, err := a.openSession(ctx, id, token)
	return s, err
}
