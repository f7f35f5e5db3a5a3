package coldstart

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRun builds a minimal aws-lambda-go function with the Makefile's flags and times it
// against the fake Runtime API: the real runtime client is the judge of the fake.
func TestRun(t *testing.T) {
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
	t.Run("a function answers its first event, after its init", func(t *testing.T) {
		s, err := Run(context.Background(), bin, nil, []byte(`{"hello":1}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != 200 || s.Error != "" || !strings.Contains(string(s.Body), `{\"hello\":1}`) {
			t.Fatalf("sample %+v, body %s", s, s.Body)
		}
		if s.Init <= 0 || s.FirstResponse < s.Init {
			t.Fatalf("init %v, first answer %v", s.Init, s.FirstResponse)
		}
	})
	t.Run("a handler error is a sample with Error set", func(t *testing.T) {
		s, err := Run(context.Background(), bin, nil, []byte(`"fail"`), nil)
		if err != nil || s.Error == "" {
			t.Fatalf("sample %+v, %v", s, err)
		}
	})
	t.Run("a function that exits at init is an error, not a hang", func(t *testing.T) {
		_, err := Run(context.Background(), bin, []string{"ECHO_CRASH=1"}, []byte(`{}`), nil)
		if err == nil || !strings.Contains(err.Error(), "exited before answering") {
			t.Fatalf("error %v", err)
		}
	})
}
