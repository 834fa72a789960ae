package cognitoapi_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
)

// requireCLI skips when the AWS CLI is missing, except under CI=true.
func requireCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the AWS CLI is required under CI=true: %v", err)
		}
		t.Skipf("the AWS CLI is not installed: %v", err)
	}
}

// TestCLI runs `aws cognito-identity` against the API: a signed
// create-identity-pool and an unsigned get-id.
func TestCLI(t *testing.T) {
	requireCLI(t)
	h := newHarness(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := h.key(t, auth.AdminUser).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CA_BUNDLE=" + ca,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
	}
	if p := os.Getenv("PYENV_ROOT"); p != "" {
		env = append(env, "PYENV_ROOT="+p)
	}
	run := func(args ...string) map[string]string {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", h.srv.URL, "--output", "json")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws %v printed %s: %v", args, out, err)
		}
		s := map[string]string{}
		for k, v := range m {
			if str, ok := v.(string); ok {
				s[k] = str
			}
		}
		return s
	}
	pool := run("cognito-identity", "create-identity-pool", "--identity-pool-name", "cli pool", "--allow-unauthenticated-identities")
	if pool["IdentityPoolName"] != "cli pool" || !cognito.IsIdentityID(pool["IdentityPoolId"]) {
		t.Fatalf("create-identity-pool printed %v", pool)
	}
	id := run("cognito-identity", "get-id", "--identity-pool-id", pool["IdentityPoolId"])
	if !cognito.IsIdentityID(id["IdentityId"]) {
		t.Fatalf("get-id printed %v", id)
	}
	d, err := h.svc.DescribeIdentity(context.Background(), id["IdentityId"])
	if err != nil || d.PoolID != pool["IdentityPoolId"] {
		t.Fatalf("identity made by the CLI: %+v, %v", d, err)
	}
}
