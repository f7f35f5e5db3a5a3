package testenv

import (
	"bytes"
	"encoding/json"

	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// RIEBin returns the official Lambda Runtime Interface Emulator (aws-lambda-rie, installed by
// `make tools`): RIE_BIN, else aws-lambda-rie in GOPATH/bin or PATH. Without it the test is
// skipped, or fails under CI=true.
func RIEBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("RIE_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	unavailable(t, "aws-lambda-rie not installed (make tools, or RIE_BIN)")
	return ""
}

// Emulator is one bootstrap running under aws-lambda-rie, as in a Lambda container.
type Emulator struct {
	URL  string // invocation endpoint
	logs syncBuffer
}

// StartRIE runs bootstrap under the emulator with exactly env (plus the emulator's own
// variables), on free loopback ports, until the test ends.
func StartRIE(t testing.TB, bootstrap string, env []string) *Emulator {
	t.Helper()
	bin := RIEBin(t)
	api, err1 := FreePort()
	port, err2 := FreePort()
	if err1 != nil || err2 != nil {
		t.Fatalf("free ports: %v %v", err1, err2)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	e := &Emulator{URL: "http://" + addr + "/2015-03-31/functions/function/invocations"}
	cmd := command(bin, "--runtime-api-address", "127.0.0.1:"+strconv.Itoa(api),
		"--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &e.logs, &e.logs
	if err := cmd.Start(); err != nil {
		unavailable(t, "start aws-lambda-rie: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", e.Logs())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return e
		}
		select {
		case <-exited:
			unavailable(t, "aws-lambda-rie exited at start:\n%s", e.Logs())
		case <-time.After(20 * time.Millisecond): // a starting process: no signal to wait on
		}
		if time.Now().After(deadline) {
			unavailable(t, "aws-lambda-rie did not listen on %s within 20s", addr)
		}
	}
}

// Invoke sends ev as the emulator's invocation payload and returns the function's raw answer.
func (e *Emulator) Invoke(t testing.TB, ev any) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.URL, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// HTTP invokes with an API Gateway HTTP API event and decodes the function's answer.
func (e *Emulator) HTTP(t testing.TB, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	raw := e.Invoke(t, ev)
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &res); err != nil || res.StatusCode == 0 {
		t.Fatalf("not an HTTP API answer: %s (%v)", raw, err)
	}
	return res
}

// Logs returns what the emulator and the function wrote so far.
func (e *Emulator) Logs() string { return e.logs.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
