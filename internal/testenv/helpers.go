package testenv

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/problem"
)

// Clock is a settable clock safe for concurrent use: tests inject its Now and move it instead
// of sleeping. Start it at the real time when records reach DynamoDB Local: like DynamoDB, it
// deletes items whose TTL attribute lies in the real past, whatever the test's clock says.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { c := &Clock{}; c.ns.Store(t.UnixNano()); return c }

// Now returns the clock's time, in UTC.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// LogBuffer collects log output from concurrent writers, so tests can check what is (not) logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// AssertProblem fails t unless w is an application/problem+json answer with status and type
// and without a stack trace; it returns the problem.
func AssertProblem(t testing.TB, w *httptest.ResponseRecorder, status int, typ string) problem.Problem {
	t.Helper()
	if w.Code != status || w.Header().Get("Content-Type") != problem.ContentType {
		t.Fatalf("got %d %s %s, want %d problem %s", w.Code, w.Header().Get("Content-Type"), w.Body, status, typ)
	}
	var p problem.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Type != typ || p.Status != status {
		t.Fatalf("problem = %s, want type %s", w.Body, typ)
	}
	if strings.Contains(w.Body.String(), "goroutine ") {
		t.Fatalf("stack trace in the answer: %s", w.Body)
	}
	return p
}

// Eventually retries check until it passes, for at most 5 s: for reads that are eventually
// consistent (a DynamoDB index). It polls a condition; it does not wait for time to pass.
func Eventually(t testing.TB, check func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
