package pki

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// File names in the data dir.
const (
	RootCertFile   = "root-ca.pem"   // root CA certificate, 0644: the trust anchor clients pin
	RootKeyFile    = "root-ca.key"   // root CA private key, 0600
	ServerCertFile = "server.pem"    // server certificate then the root, 0644
	ServerKeyFile  = "server.key"    // server private key, 0600
	DeviceCertFile = "device-ca.pem" // device CA certificate, 0644 (issuer only, not trusted)
	DeviceKeyFile  = "device-ca.key" // device CA private key, 0600
	// MoatRootCertFile holds moat's own root CA certificate while root-ca.pem
	// holds an operator's root (Options.Operator), 0644.
	MoatRootCertFile = "root-ca.moat.pem"
)

const (
	certMode os.FileMode = 0o644
	keyMode  os.FileMode = 0o600
	dirMode  os.FileMode = 0o700
)

// checkUnix is false where Unix permission bits mean nothing.
var checkUnix = runtime.GOOS != "windows" && runtime.GOOS != "plan9"

// prepareDir creates dir with mode 0700 if missing and refuses a directory
// that is not a directory or is group- or world-writable.
func prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("pki: create data dir: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("pki: data dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("pki: data dir %s is not a directory", dir)
	}
	if checkUnix && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("pki: data dir %s has mode %04o: group- or world-writable directories are refused (anyone who can write there can replace the root CA); run chmod go-w %s",
			dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content: temp file in the same dir, fsync, rename, fsync dir.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*") // created 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil && checkUnix {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Directories cannot be synced on
// Windows; there the rename is as durable as the OS makes it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// exists reports whether path exists; other stat errors are returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("pki: %w", err)
}

// readKeyFile reads a private key file, refusing one readable by group or
// others (as ssh does): a leaked CA key cannot be revoked.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if checkUnix && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("pki: %s has mode %04o; private keys must not be accessible by group or others (run chmod 600 %s)",
			path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return b, nil
}

// decodePEMBlocks decodes data that must consist only of PEM blocks without
// headers, separated by white space. At least one block is required.
func decodePEMBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := data
	for {
		trimmed := bytes.TrimLeft(rest, " \t\r\n")
		if len(trimmed) == 0 {
			break
		}
		if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
			return nil, errors.New("unexpected data outside PEM blocks")
		}
		var b *pem.Block
		b, rest = pem.Decode(trimmed)
		// pem.Decode skips a malformed block and decodes the next one; the
		// consumed text must hold exactly one BEGIN line.
		if b == nil || bytes.Count(trimmed[:len(trimmed)-len(rest)], []byte("-----BEGIN ")) != 1 {
			return nil, errors.New("malformed PEM block")
		}
		if len(b.Headers) != 0 {
			return nil, errors.New("PEM headers are not allowed")
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return blocks, nil
}
