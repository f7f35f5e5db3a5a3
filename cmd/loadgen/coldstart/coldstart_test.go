package coldstart

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPool builds a minimal aws-lambda-go function with the Makefile's flags and runs it
// against the fake Runtime API: the real runtime client is the judge of the fake.
func TestPool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	size, err := Build(context.Background(), "../../..", "./cmd/loadgen/coldstart/testdata/echo", runtime.GOOS, runtime.GOARCH, bin)
	if err != nil {
		t.Fatal(err)
	}
	if size <= 0 {
		t.Fatalf("size %d", size)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Run("each process answers events after its init; a handler error is a response with Error set", func(t *testing.T) {
		p, err := StartPool(ctx, 2, []string{bin}, filepath.Dir(bin), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		if len(p.Inits) != 2 || p.Inits[0] <= 0 || p.Inits[1] <= 0 {
			t.Fatalf("inits %v", p.Inits)
		}
		for range 3 {
			r, err := p.Invoke(ctx, []byte(`{"hello":1}`))
			if err != nil || r.Error || !strings.Contains(string(r.Body), `{\"hello\":1}`) || r.At.Before(p.Started[0].Add(p.Inits[0])) {
				t.Fatalf("answer %+v (%s), %v", r, r.Body, err)
			}
		}
		if r, err := p.Invoke(ctx, []byte(`"fail"`)); err != nil || !r.Error {
			t.Fatalf("answer %+v, %v", r, err)
		}
		if rss := p.Stop(); rss <= 0 {
			t.Errorf("peak RSS %d", rss)
		}
	})
	t.Run("a function that exits at init is an error, not a hang", func(t *testing.T) {
		_, err := StartPool(ctx, 1, []string{bin}, filepath.Dir(bin), []string{"ECHO_CRASH=1"}, nil)
		if err == nil || !strings.Contains(err.Error(), "exited during init") {
			t.Fatalf("error %v", err)
		}
	})
}
