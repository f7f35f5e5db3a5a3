package readme

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

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

// docs are the pages a reader reaches from the README: README.md and docs/*.md, by path
// relative to the repository root.
func docs(t *testing.T) (root string, pages map[string]string) {
	t.Helper()
	root, text := readme(t)
	pages = map[string]string{"README.md": text}
	names, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		pages[filepath.Join("docs", filepath.Base(name))] = string(b)
	}
	return root, pages
}

func TestMakeHelpListsEveryTargetTheDocsName(t *testing.T) {
	root, pages := docs(t)
	out, err := exec.Command("make", "-C", root, "--no-print-directory", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	for page, text := range pages {
		for _, m := range regexp.MustCompile("`make ([a-z-]+)").FindAllStringSubmatch(text, -1) {
			if !regexp.MustCompile(`(?m)^\s+` + m[1] + `\s`).Match(out) {
				t.Errorf("%s names `make %s`, which make help does not list:\n%s", page, m[1], out)
			}
		}
	}
}

func TestTheReadmeLinksEveryDocsPage(t *testing.T) {
	_, pages := docs(t)
	for page := range pages {
		if page != "README.md" && !strings.Contains(pages["README.md"], "]("+filepath.ToSlash(page)+")") {
			t.Errorf("README.md does not link %s", page)
		}
	}
	if n := strings.Count(pages["README.md"], "\n"); n > 300 {
		t.Errorf("README.md has %d lines: the quick start stays under 300, the rest goes to docs/", n)
	}
}

// TestRelativeLinksResolve: every relative link of the README and docs/ names a file of the
// repository and, with a #fragment into a Markdown file, one of its headings.
func TestRelativeLinksResolve(t *testing.T) {
	root, pages := docs(t)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for page, text := range pages {
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page // a bare #fragment points into the page itself
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			b, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Errorf("%s links %s: %v", page, target, err)
				continue
			}
			if frag != "" && strings.HasSuffix(path, ".md") && !slices.Contains(anchors(string(b)), frag) {
				t.Errorf("%s links %s: %s has no heading #%s (it has %v)", page, target, path, frag, anchors(string(b)))
			}
		}
	}
}

// anchors are the fragments GitHub gives the headings of a Markdown text.
func anchors(text string) []string {
	var out []string
	inCode := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		h, ok := strings.CutPrefix(line, "#")
		if inCode || !ok {
			continue
		}
		h = strings.ToLower(strings.TrimSpace(strings.TrimLeft(h, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestBenchmarkFiguresAreTheReportsOwn: the latencies and sizes docs/benchmarks.md quotes are
// figures of the committed run (bench/REPORT.md; its flash-sale section's, bench/sale.txt), and
// the engine's ratios are bench/idem.txt's, so a figure cannot be edited by hand or left behind
// by a new run.
func TestBenchmarkFiguresAreTheReportsOwn(t *testing.T) {
	root, pages := docs(t)
	text := pages[filepath.Join("docs", "benchmarks.md")]
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, "bench", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	report, idem, sale := read("REPORT.md"), read("idem.txt"), read("sale.txt")
	figure := regexp.MustCompile(`\d[\d,]*\.\d+ (ms|MiB|MB)\b`)
	const saleHeading = "\n## The flash sale\n"
	i := strings.Index(text, saleHeading)
	if i < 0 {
		t.Fatalf("docs/benchmarks.md has no %q section", strings.TrimSpace(saleHeading))
	}
	section := text[i+1:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	text = strings.Replace(text, section, "", 1)
	saleFigures := figure.FindAllString(section, -1)
	if len(saleFigures) < 4 {
		t.Fatalf("the flash-sale section quotes %d figures: it moved?", len(saleFigures))
	}
	for _, f := range saleFigures {
		if !strings.Contains(sale, strings.ReplaceAll(f, ",", "")) {
			t.Errorf("docs/benchmarks.md's flash sale quotes %s, which bench/sale.txt does not have", f)
		}
	}
	figures := figure.FindAllString(text, -1)
	if len(figures) < 40 {
		t.Fatalf("docs/benchmarks.md quotes %d figures: the benchmark section moved?", len(figures))
	}
	for _, f := range figures {
		if f == "1.8 MB" { // the SDK's config package, measured when it was removed (not a bench figure)
			continue
		}
		if !strings.Contains(report, strings.ReplaceAll(f, ",", "")) {
			t.Errorf("docs/benchmarks.md quotes %s, which bench/REPORT.md does not have", f)
		}
	}
	m := regexp.MustCompile(`bench/idem.txt: ([\d.]+) and ([\d.]+) x-putitem; ([\d,]+) and ([\d,]+) ns/op`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("docs/benchmarks.md no longer quotes bench/idem.txt")
	}
	for _, f := range m[1:] {
		if !strings.Contains(idem, " "+strings.ReplaceAll(f, ",", "")+" ") {
			t.Errorf("docs/benchmarks.md quotes %s from bench/idem.txt, which does not have it", f)
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
		"HTTP/1.1 200 OK", `"sku":"tee-black-m"`, `"availability":"in_stock"`,
		"HTTP/1.1 201 Created", "Idempotent-Replayed: true", "HTTP/1.1 422 Unprocessable Entity",
		`"type":"/problems/idempotency-key-reused"`, `"status":"paid"`,
		`"lines":[{"sku":"tee-black-m","name":"Black tee, M","unit_price":2500,"quantity":2}],"amount":5000`,
		"HTTP/1.1 409 Conflict", `"type":"/problems/price-changed"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("session output lacks %s:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "HTTP/1.1 201 Created"); n != 2 {
		t.Errorf("%d 201 answers, want 2:\n%s", n, got)
	}
	if n := strings.Count(got, "/problems/price-changed"); n != 1 {
		t.Errorf("%d price-changed answers, want 1 (the tampered total):\n%s", n, got)
	}
}
