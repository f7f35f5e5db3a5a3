package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestMakeRunStopsOnCtrlCWithStatus0 runs `make run` on a terminal (script(1) gives it one)
// and types Ctrl-C once it serves: the server shuts down gracefully, make reports no error,
// and the exit status is 0.
func TestMakeRunStopsOnCtrlCWithStatus0(t *testing.T) {
	for _, tool := range []string{"make", "script"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.CI() {
				t.Fatalf("%s not installed (CI=true: failing instead of skipping)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", "make --no-print-directory run", "/dev/null")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "DYNAMODB_ENDPOINT=",
		"AWS_ENDPOINT_URL_DYNAMODB=", "STRIPE_SECRET_KEY=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() { // the server's start-up line is the signal that it serves
		out.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), `"msg":"serving"`) {
			break
		}
	}
	if !strings.Contains(out.String(), `"msg":"serving"`) {
		_ = cmd.Wait()
		t.Fatalf("make run did not start:\n%s", out.String())
	}
	if _, err := stdin.Write([]byte{0x03}); err != nil { // Ctrl-C on the terminal
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	out.Write(rest)
	err = cmd.Wait()
	if err != nil || !strings.Contains(out.String(), `"msg":"stopped"`) || strings.Contains(out.String(), "make: ***") {
		t.Fatalf("after Ctrl-C: %v, want exit status 0, a graceful stop and no make error:\n%s", err, out.String())
	}
}

func TestMakeHelpShowsTheRealAddress(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "PORT=4321", "HOST=0.0.0.0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "http://0.0.0.0:4321") || strings.Contains(string(out), "$(PORT)") || strings.Contains(string(out), "$(HOST)") {
		t.Fatalf("make help: %v\n%s", err, out)
	}
}
