package moattest

import (
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/server"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binary builds ./cmd/moat once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		buildDir, buildErr = os.MkdirTemp("", "moat-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "moat"), "./cmd/moat")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build moat: %v", buildErr)
	}
	return filepath.Join(buildDir, "moat")
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Process is moat running as a child process ("moat serve"), for tests that
// kill it.
type Process struct {
	*Server
	Cmd *exec.Cmd
}

// FreePort returns a loopback address with a port that was free a moment
// ago.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartProcess runs `moat serve` on dataDir with free loopback ports and
// waits until /health answers. The process is killed when the test ends if
// it still runs.
func StartProcess(t testing.TB, dataDir string) *Process {
	t.Helper()
	bin := Binary(t)
	httpsAddr, mqttAddr := FreePort(t), FreePort(t)
	cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--https-addr", httpsAddr, "--mqtt-addr", mqttAddr, "--log-level", "info")
	cmd.Stdout = testWriter{t}
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	cfg := config.Default()
	cfg.DataDir, cfg.HTTPSAddr, cfg.MQTTAddr = dataDir, httpsAddr, mqttAddr
	s := &Server{Server: &server.Server{HTTPSAddr: httpsAddr, MQTTAddr: mqttAddr}, Config: cfg, Dir: dataDir, URL: "https://" + httpsAddr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if rootPEM, err := os.ReadFile(filepath.Join(dataDir, pki.RootCertFile)); err == nil {
			s.RootCAs = x509.NewCertPool()
			s.RootCAs.AppendCertsFromPEM(rootPEM)
			if resp, err := s.HTTPClient().Get(s.URL + "/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("moat serve did not become healthy in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	id, secret, err := pki.ReadSharedCredentials(filepath.Join(dataDir, server.AdminCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	s.AccessKey, s.Secret = id, secret
	return &Process{Server: s, Cmd: cmd}
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	_ = p.Cmd.Wait()
}

// Terminate sends SIGTERM and waits for a clean exit.
func (p *Process) Terminate(t testing.TB) {
	t.Helper()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("moat serve after SIGTERM: %v", err)
	}
}
