package awsenv

import (
	"os"
	"runtime"
	"strconv"
)

// OneVCPUMemoryMB is the memory setting at which a Lambda function is given the equivalent of
// one vCPU (one vCPU-second of credits per second); Lambda allocates CPU in proportion below it.
const OneVCPUMemoryMB = 1769

// FitProcs sets GOMAXPROCS to 1 in a Lambda function configured with less memory than
// OneVCPUMemoryMB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), unless GOMAXPROCS is set, and returns
// GOMAXPROCS. Such a function sees two CPUs but is given a fraction of one: a second P runs no
// more work, it only hands goroutines between threads (the netpoller's wake-up, the handler), and
// each hand-off is a thread wake-up on a CPU the function may not have (docs/benchmarks.md says
// what a paired comparison showed, and that its harness is not kept).
func FitProcs() int {
	mb, err := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if _, set := os.LookupEnv("GOMAXPROCS"); set || err != nil || mb <= 0 || mb >= OneVCPUMemoryMB {
		return runtime.GOMAXPROCS(0)
	}
	runtime.GOMAXPROCS(1)
	return 1
}
