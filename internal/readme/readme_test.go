package readme

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func readme(t *testing.T) (root, text string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}

// block returns the first ```sh block after heading.
func block(t *testing.T, text, heading string) string {
	t.Helper()
	i := strings.Index(text, heading)
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text[i:])
	if m == nil {
		t.Fatalf("no sh block after %q", heading)
	}
	return m[1]
}

func TestMakeHelpListsEveryTargetTheReadmeNames(t *testing.T) {
	root, text := readme(t)
	out, err := exec.Command("make", "-C", root, "--no-print-directory", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	for _, m := range regexp.MustCompile("`make ([a-z-]+)").FindAllStringSubmatch(text, -1) {
		if !regexp.MustCompile(`(?m)^\s+` + m[1] + `\s`).Match(out) {
			t.Errorf("README names `make %s`, which make help does not list:\n%s", m[1], out)
		}
	}
}

// TestCurlSession starts `make run` as the README says and runs its curl session against it.
func TestCurlSession(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	root, text := readme(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := exec.Command("make", "-C", root, "--no-print-directory", "run")
	run.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "DYNAMODB_ENDPOINT=", "AWS_ENDPOINT_URL_DYNAMODB=", "STRIPE_SECRET_KEY=")
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var logs strings.Builder
	run.Stdout, run.Stderr = &logs, &logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-run.Process.Pid, syscall.SIGTERM) // the graceful path of `make run`
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
		}
	})
	addr := net.JoinHostPort("localhost", strconv.Itoa(port))
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("make run exited: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("make run did not listen on %s:\n%s", addr, logs.String())
		case <-time.After(100 * time.Millisecond): // polling the port: the server gives no other signal
		}
	}
	script := strings.ReplaceAll(block(t, text, "## A session with the local API"), "localhost:3000", addr)
	out, err := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("session failed: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"HTTP/1.1 201 Created", "Idempotent-Replayed: true", "HTTP/1.1 422 Unprocessable Entity",
		`"type":"/problems/idempotency-key-reused"`, `"status":"paid"`, `"cart_id":"cart_123"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("session output lacks %s:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "HTTP/1.1 201 Created"); n != 2 {
		t.Errorf("%d 201 answers, want 2:\n%s", n, got)
	}
}
