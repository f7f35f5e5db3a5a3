package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// StripeMockURL is the variable that points tests at a running stripe-mock instead of starting one.
const StripeMockURL = "STRIPE_MOCK_URL"

var sharedStripeMock struct {
	once sync.Once
	url  string
	err  error
}

// StripeMock returns the base URL (http://127.0.0.1:<port>) of the stripe-mock shared by this
// test binary: STRIPE_MOCK_URL when set, otherwise one started on first use and stopped by Main.
// The binary is $STRIPE_MOCK_BIN, else $GOPATH/bin/stripe-mock, else stripe-mock on PATH. When
// it cannot start, the test is skipped (failed under CI=true).
//
// stripe-mock is stateless: it validates requests against Stripe's OpenAPI spec and answers
// with fixtures, so it can check what a client sends but cannot decline, replay idempotent
// requests or remember objects.
func StripeMock(t testing.TB) string {
	t.Helper()
	sharedStripeMock.once.Do(func() {
		if u := os.Getenv(StripeMockURL); u != "" {
			sharedStripeMock.url = u
			return
		}
		sharedStripeMock.url, sharedStripeMock.err = startStripeMock()
	})
	if sharedStripeMock.err != nil {
		unavailable(t, "stripe-mock unavailable: %v", sharedStripeMock.err)
	}
	return sharedStripeMock.url
}

// stripeMockBin finds the stripe-mock executable.
func stripeMockBin() (string, error) {
	if bin := os.Getenv("STRIPE_MOCK_BIN"); bin != "" {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		bin := filepath.Join(dir, "bin", "stripe-mock")
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		return "", errors.New("stripe-mock not found in $STRIPE_MOCK_BIN, $GOPATH/bin or PATH (make tools installs it)")
	}
	return bin, nil
}

// startStripeMock starts stripe-mock on a free loopback port and waits until it accepts
// connections. A port taken between FreePort and the bind makes stripe-mock exit; it is then
// tried again on another port.
func startStripeMock() (string, error) {
	bin, err := stripeMockBin()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "stripe-mock-*")
	if err != nil {
		return "", err
	}
	atExit(func() { _ = os.RemoveAll(dir) })
	for try := 1; ; try++ {
		url, err := runStripeMock(bin, dir, try)
		if err == nil || try == 3 {
			return url, err
		}
	}
}

func runStripeMock(bin, dir string, try int) (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, fmt.Sprintf("stripe-mock-%d.log", try))
	log, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer log.Close()
	// With -http-addr alone, stripe-mock also serves HTTPS on the fixed port 12112, which
	// collides between test binaries running in parallel: send HTTPS to a private socket.
	cmd := command(bin, "-http-addr", addr, "-https-unix", filepath.Join(dir, fmt.Sprintf("https-%d.sock", try)))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("testenv: start stripe-mock: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			atExit(stop)
			return "http://" + addr, nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("testenv: stripe-mock exited early; see %s", logPath)
		case <-time.After(20 * time.Millisecond): // polling a starting process: no signal to wait on
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("testenv: stripe-mock did not accept connections on %s within 30s: %v", addr, err)
		}
	}
}
