package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/checkout-idem/checkout/internal/lambdaevent"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// tinyRun runs loadgen with args (and -out) on the shared DynamoDB Local and returns its
// report, failing the test on any failure the run reports.
func tinyRun(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("DYNAMODB_ENDPOINT", testenv.DynamoEndpoint(t))
	out := t.TempDir()
	o, err := parseFlags(append(args, "-out", out), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep, err := run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(rep.failures) > 0 {
		t.Fatalf("failures: %v\n%s", rep.failures, log.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(md)
}

// row returns the cells of the report's table row whose first cell is first.
func row(t *testing.T, md, first string) []string {
	t.Helper()
	for line := range strings.Lines(md) {
		if strings.HasPrefix(line, "| "+first+" |") {
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			return cells
		}
	}
	t.Fatalf("REPORT.md has no row %q:\n%s", first, md)
	return nil
}

// TestTinyRun drives the in-process API with 2 clients and a few requests per scenario, and
// checks what the report promises.
func TestTinyRun(t *testing.T) {
	md := tinyRun(t, "-clients", "2", "-requests", "8", "-warmup", "0", "-baseline", "50ms", "-sequential", "100ms", "-replay-keys", "3")
	// scenario, requests, ..., statuses (7), DynamoDB req / API req, distinct keys, orders, charges
	for name, want := range map[string][2]string{"unique": {"8", "8"}, "replay": {"8", "3"}, "storm": {"8", "4"}} {
		c := row(t, md, name)
		if c[1] != want[0] || c[9] != want[1] || c[10] != c[9] || c[11] != c[9] || c[7] != "201 x"+want[0] || c[12] == "NaN x" {
			t.Errorf("%s: %v, want %v requests and keys, as many orders and charges", name, c, want)
		}
	}
	if c := row(t, md, "replay"); c[8] != "1.00" {
		t.Errorf("a replay costs one DynamoDB request: %v", c)
	}
	// path, requests, ..., DynamoDB req / API req, distinct keys, orders, charges
	r := strings.Split(md, "### One request at a time")[1]
	for _, path := range []string{"unique", "replay"} {
		c := row(t, r, path)
		if c[1] == "0" || c[9] != map[string]string{"unique": c[1], "replay": "1"}[path] || c[10] != c[9] || c[11] != c[9] {
			t.Errorf("one at a time, %s: %v", path, c)
		}
	}
	if c := row(t, r, "replay"); c[8] != "1.00" {
		t.Errorf("one at a time, a replay costs one DynamoDB request: %v", c)
	}
	for _, s := range []string{"### Baseline", "| before unique |", "| after storm |", "a failed conditional PutItem (ALL_OLD) of the replayed key's own record",
		runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(md, s) {
			t.Errorf("REPORT.md lacks %q:\n%s", s, md)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-clients", "0"}, {"-sequential", "0"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.clients != 16 || o.out != "bench" {
		t.Fatalf("defaults %+v, %v", o, err)
	}
}

// TestEvents checks the checkout events of the side-by-side and the cold starts: each with the
// key given, and the template's headers left as they were (the webhook's are signed by
// lambdaevent.SignStripe, tested there).
func TestEvents(t *testing.T) {
	ev, err := lambdaevent.Load("../../events/checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	before := ev.Headers["idempotency-key"]
	event, err := checkoutEvents(ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := event("coldstart-x-1"), event("coldstart-x-2")
	if bytes.Equal(a, b) || !bytes.Contains(a, []byte(`"idempotency-key":"coldstart-x-1"`)) || ev.Headers["idempotency-key"] != before {
		t.Fatalf("checkout events:\n%s\n%s", a, b)
	}
	var got events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(a, &got); err != nil || got.Headers["idempotency-key"] != "coldstart-x-1" || got.Body != ev.Body {
		t.Fatalf("the event does not decode to the template with its key: %v", err)
	}
}

func TestAnsweredBody(t *testing.T) {
	for _, tc := range []struct{ resp, want string }{
		{`{"statusCode":201,"body":"{\"order_id\":\"ord_1\"}"}`, `{"order_id":"ord_1"}`},
		{`{"statusCode":201,"body":"eyJvcmRlcl9pZCI6Im9yZF8yIn0=","isBase64Encoded":true}`, `{"order_id":"ord_2"}`},
		{`not json`, ""},
	} {
		if _, got := answered([]byte(tc.resp)); string(got) != tc.want {
			t.Errorf("answered(%s) = %q, want %q", tc.resp, got, tc.want)
		}
	}
}
