package awsenv

import (
	"runtime"
	"testing"
)

func TestFitProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		name, memory, gomaxprocs string
		one                      bool
	}{
		{"under one vCPU's memory: one P", "256", "", true},
		{"just under: one P", "1768", "", true},
		{"one vCPU or more: the default", "1769", "", false},
		{"GOMAXPROCS set: left alone", "256", "2", false},
		{"not in Lambda: the default", "", "", false},
		{"a malformed size: the default", "lots", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(2)
			t.Setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tc.memory)
			if tc.gomaxprocs != "" {
				t.Setenv("GOMAXPROCS", tc.gomaxprocs)
			}
			want := map[bool]int{true: 1, false: 2}[tc.one]
			if got := FitProcs(); got != want || runtime.GOMAXPROCS(0) != want {
				t.Fatalf("FitProcs() = %d, GOMAXPROCS %d; want %d", got, runtime.GOMAXPROCS(0), want)
			}
		})
	}
}
