package pki

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestNewAccessKey(t *testing.T) {
	idRE := regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	seen := map[string]bool{}
	// Every key has the AWS shapes and no two are equal.
	for i := 0; i < 100; i++ {
		id, secret, err := NewAccessKey()
		if err != nil {
			t.Fatalf("NewAccessKey: %v", err)
		}
		if !idRE.MatchString(id) || !secretRE.MatchString(secret) {
			t.Fatalf("bad shapes: %q %q", id, secret)
		}
		if seen[id] || seen[secret] {
			t.Fatalf("repeated key")
		}
		seen[id], seen[secret] = true, true
	}
}

func TestSharedCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.credentials")
	id, secret, _ := NewAccessKey()

	// Writing gives a 0600 file in the AWS format that reads back.
	if err := WriteSharedCredentials(path, id, secret); err != nil {
		t.Fatalf("write: %v", err)
	}
	b, _ := os.ReadFile(path)
	want := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
	if string(b) != want {
		t.Fatalf("file = %q, want %q", b, want)
	}
	if fi, _ := os.Stat(path); checkUnix && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o", fi.Mode().Perm())
	}
	gotID, gotSecret, err := ReadSharedCredentials(path)
	if err != nil || gotID != id || gotSecret != secret {
		t.Fatalf("read = %q %q %v", gotID, gotSecret, err)
	}

	tests := map[string]struct {
		content string
		wantID  string
	}{
		// Other profiles, comments and spacing are tolerated.
		"other profiles": {"# c\n[prod]\naws_access_key_id=AKIAX\naws_secret_access_key=x\n\n[ default ]\n; c\naws_access_key_id=AKIAY\naws_secret_access_key =  s \n", "AKIAY"},
		// A file without [default] is an error.
		"no default": {"[prod]\naws_access_key_id=AKIAX\naws_secret_access_key=x\n", ""},
		// A [default] without the secret is an error.
		"no secret": {"[default]\naws_access_key_id=AKIAX\n", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c")
			os.WriteFile(p, []byte(tc.content), 0o600)
			id, _, err := ReadSharedCredentials(p)
			if (tc.wantID == "") != (err != nil) || id != tc.wantID {
				t.Fatalf("id = %q, err = %v; want %q", id, err, tc.wantID)
			}
		})
	}
	// Values that would corrupt the INI file are refused.
	if err := WriteSharedCredentials(path, "AKIA\n[x]", secret); err == nil {
		t.Fatalf("newline in id accepted")
	}
}
