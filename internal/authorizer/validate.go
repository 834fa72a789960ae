package authorizer

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/awsapi"
)

// Limits of the botocore model (iot/2015-05-28) and AWS's documentation.
const (
	maxNameLen        = 128  // AuthorizerName, TokenKeyName, KeyName
	maxFunctionARNLen = 2048 // AuthorizerFunctionArn
	maxKeyValueLen    = 5120 // KeyValue (a PEM public key)
	minKeyBits        = 2048 // "Its minimum length is 2,048 bits."
)

func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// checkPattern checks v against a 1..maxNameLen pattern of allowed runes.
func checkPattern(member, v, pattern string, allowed func(rune) bool) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > maxNameLen {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s must be 1 to %d characters long, got %d.", member, maxNameLen, n)
	}
	for _, r := range v {
		if !allowed(r) {
			return awsapi.Errorf(awsapi.InvalidRequest, "%s %q must match the pattern %s.", member, v, pattern)
		}
	}
	return nil
}

// CheckName checks an AuthorizerName (InvalidRequestException naming member): [\w=,@-]+, 1 to 128.
func CheckName(member, v string) error {
	return checkPattern(member, v, `[\w=,@-]+`, func(r rune) bool {
		return alnum(r) || r == '_' || r == '=' || r == ',' || r == '@' || r == '-'
	})
}

// checkTokenKeyName checks a TokenKeyName: [a-zA-Z0-9_-]+, 1 to 128.
func checkTokenKeyName(v string) error {
	return checkPattern("tokenKeyName", v, "[a-zA-Z0-9_-]+", func(r rune) bool {
		return alnum(r) || r == '_' || r == '-'
	})
}

// checkKeyName checks a KeyName: [a-zA-Z0-9:_-]+, 1 to 128.
func checkKeyName(v string) error {
	return checkPattern("tokenSigningPublicKeys key name", v, "[a-zA-Z0-9:_-]+", func(r rune) bool {
		return alnum(r) || r == ':' || r == '_' || r == '-'
	})
}

// ParseStatus checks a status value.
func ParseStatus(member, v string) (Status, error) {
	switch s := Status(v); s {
	case Active, Inactive:
		return s, nil
	}
	return "", awsapi.Errorf(awsapi.InvalidRequest, "%s must be ACTIVE or INACTIVE, got %q.", member, v)
}

// check validates a whole authorizer (after Create's defaults or an
// Update's changes): InvalidRequestException naming what is wrong.
func (s *Service) check(a *Authorizer) error {
	if _, err := ParseStatus("status", string(a.Status)); err != nil {
		return err
	}
	if err := s.checkFunction(a.FunctionARN); err != nil {
		return err
	}
	if a.TokenKeyName != "" {
		if err := checkTokenKeyName(a.TokenKeyName); err != nil {
			return err
		}
	}
	if len(a.SigningKeys) > s.opts.MaxSigningKeys {
		return awsapi.Errorf(awsapi.InvalidRequest, "tokenSigningPublicKeys has %d keys; at most %d are allowed.", len(a.SigningKeys), s.opts.MaxSigningKeys)
	}
	names := make([]string, 0, len(a.SigningKeys))
	for n := range a.SigningKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := checkKeyName(n); err != nil {
			return err
		}
		if _, err := s.keys.parse(a.SigningKeys[n]); err != nil {
			return awsapi.Errorf(awsapi.InvalidRequest, "tokenSigningPublicKeys[%s]: %v.", n, err)
		}
	}
	if !a.SigningDisabled {
		if a.TokenKeyName == "" {
			return awsapi.Errorf(awsapi.InvalidRequest, "tokenKeyName is required when signing is enabled (signingDisabled is false).")
		}
		if len(a.SigningKeys) == 0 {
			return awsapi.Errorf(awsapi.InvalidRequest, "tokenSigningPublicKeys must have at least one key when signing is enabled (signingDisabled is false).")
		}
	}
	return nil
}

// checkFunction checks an authorizerFunctionArn: an http:// or https://
// URL with a host (and allowed by Options.AllowURL), or a Lambda ARN.
func (s *Service) checkFunction(fn string) error {
	if fn == "" {
		return awsapi.Errorf(awsapi.InvalidRequest, "authorizerFunctionArn is required.")
	}
	if n := utf8.RuneCountInString(fn); n > maxFunctionARNLen {
		return awsapi.Errorf(awsapi.InvalidRequest, "authorizerFunctionArn must be at most %d characters long, got %d.", maxFunctionARNLen, n)
	}
	if isLambdaARN(fn) {
		return nil
	}
	if _, err := s.functionURL(fn); err != nil {
		return awsapi.Errorf(awsapi.InvalidRequest, "authorizerFunctionArn: %v.", err)
	}
	return nil
}

// isLambdaARN reports whether fn is an AWS Lambda function ARN.
func isLambdaARN(fn string) bool { return strings.HasPrefix(fn, "arn:aws:lambda:") }

var errNotURL = errors.New("must be the http:// or https:// URL of your authorizer function (moat cannot run AWS Lambda; a Lambda function ARN is kept but never called)")

// functionURL parses a function URL and applies the allow list.
func (s *Service) functionURL(fn string) (*url.URL, error) {
	u, err := url.Parse(fn)
	if err != nil {
		return nil, fmt.Errorf("%q %w", truncate(fn, 200), errNotURL)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q %w", truncate(u.Redacted(), 200), errNotURL)
	}
	if s.opts.AllowURL != nil {
		if err := s.opts.AllowURL(u); err != nil {
			return nil, fmt.Errorf("%s is not an allowed authorizer destination: %w", u.Redacted(), err)
		}
	}
	return u, nil
}

// keyCache holds parsed signing keys by their PEM text, so that each
// authentication does not parse them again. Entries never go stale (the
// text is the key); the cache is emptied when it reaches its bound.
type keyCache struct {
	mu sync.Mutex
	m  map[string]*rsa.PublicKey
}

const maxCachedKeys = 1024

// parse returns the RSA public key of a PEM text: a "PUBLIC KEY" (PKIX)
// or "RSA PUBLIC KEY" (PKCS #1) block of at least minKeyBits bits.
func (c *keyCache) parse(text string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	k, ok := c.m[text]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := parseKey(text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = map[string]*rsa.PublicKey{}
	}
	c.m[text] = k
	c.mu.Unlock()
	return k, nil
}

func parseKey(text string) (*rsa.PublicKey, error) {
	if len(text) > maxKeyValueLen {
		return nil, fmt.Errorf("the key must be at most %d characters long, got %d", maxKeyValueLen, len(text))
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("not a PEM-encoded public key")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("more than one PEM block; give one public key per name")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a public key (want PUBLIC KEY or RSA PUBLIC KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the public key does not parse: %v", err)
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T; token signatures are RSA-SHA256, so an RSA key is required", pub)
	}
	if k.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("the RSA key has %d bits; at least %d are required", k.N.BitLen(), minKeyBits)
	}
	return k, nil
}
