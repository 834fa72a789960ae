package pki

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// NewAccessKey returns a new AWS-style access key: an ID of "AKIA" and 16
// characters of A-Z2-7 (80 random bits) and a secret of 40 characters of
// A-Za-z0-9+/ (240 random bits), both from crypto/rand.
func NewAccessKey() (id, secret string, err error) {
	idBytes := make([]byte, 10) // 10 bytes = 16 base32 characters, no padding
	secretBytes := make([]byte, 30)
	if _, err := rand.Read(idBytes); err != nil {
		return "", "", fmt.Errorf("pki: access key: %w", err)
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return "", "", fmt.Errorf("pki: access key: %w", err)
	}
	return "AKIA" + base32.StdEncoding.EncodeToString(idBytes),
		base64.StdEncoding.EncodeToString(secretBytes), nil // 30 bytes = 40 characters, no padding
}

// WriteSharedCredentials writes an AWS shared-credentials file with a single
// [default] profile, mode 0600, crash-safely (replacing any existing file).
// The directory must exist. id and secret must not contain white space.
func WriteSharedCredentials(path, id, secret string) error {
	for _, v := range []string{id, secret} {
		if v == "" || strings.ContainsAny(v, " \t\r\n#;[]=") {
			return errors.New("pki: write credentials: access key id and secret must be non-empty and contain no white space or INI syntax")
		}
	}
	data := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
	if err := writeFileAtomic(path, []byte(data), keyMode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// ReadSharedCredentials reads aws_access_key_id and aws_secret_access_key of
// the [default] profile of an AWS shared-credentials file. Comment lines
// (# or ;) and other profiles are ignored.
func ReadSharedCredentials(path string) (id, secret string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("pki: read credentials: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	inDefault := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			inDefault = strings.TrimSpace(line[1:len(line)-1]) == "default"
			continue
		case !inDefault:
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("pki: read credentials %s: %w", path, err)
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("pki: read credentials %s: [default] profile lacks aws_access_key_id or aws_secret_access_key", path)
	}
	return id, secret, nil
}
