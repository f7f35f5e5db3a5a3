package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var (
	mu      sync.Mutex
	cleanup []func()
)

// Main runs the tests, then stops every component started for them, and exits.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for i := len(cleanup) - 1; i >= 0; i-- {
		cleanup[i]()
	}
	mu.Unlock()
	os.Exit(code)
}

func atExit(f func()) {
	mu.Lock()
	defer mu.Unlock()
	cleanup = append(cleanup, f)
}

// CI reports whether the tests run under CI, where missing components are failures.
func CI() bool { return os.Getenv("CI") == "true" || os.Getenv("CI") == "1" }

// unavailable skips the test, or fails it under CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (CI=true: failing instead of skipping)", args...)
	}
	t.Skipf(format, args...)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// command prepares a child process that dies with the test binary.
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return cmd
}

// repoFile returns the path of a file relative to the module root.
func repoFile(rel string) (string, error) {
	root, err := RepoRoot()
	return filepath.Join(root, rel), err
}

// RepoRoot returns the module root: the nearest folder at or above the working directory that
// holds a go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}
