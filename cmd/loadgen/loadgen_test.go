package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestTinyRun drives the in-process API on the shared DynamoDB Local with 2 clients and a few
// requests per scenario, and checks what the report promises.
func TestTinyRun(t *testing.T) {
	t.Setenv("DYNAMODB_ENDPOINT", testenv.DynamoEndpoint(t))
	out := t.TempDir()
	o, err := parseFlags([]string{"-clients", "2", "-requests", "8", "-warmup", "0", "-baseline", "50ms",
		"-sequential", "100ms", "-replay-keys", "3", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep, err := run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(rep.Failures) > 0 {
		t.Fatalf("failures: %v", rep.Failures)
	}
	want := map[string]int64{"unique": 8, "replay": 3, "storm": 4}
	if len(rep.results) != len(want) {
		t.Fatalf("%d results", len(rep.results))
	}
	for _, r := range rep.results {
		if r.keys != want[r.name] || r.orders != r.keys || r.charges != r.keys {
			t.Errorf("%s: keys %d (want %d), orders %d, charges %d", r.name, r.keys, want[r.name], r.orders, r.charges)
		}
		if r.s.requests() == 0 || r.s.errors > 0 || r.ddb <= 0 || r.xAlone <= 0 {
			t.Errorf("%s: %d requests, %d errors, %d DynamoDB requests, ratio %.2f", r.name, r.s.requests(), r.s.errors, r.ddb, r.xAlone)
		}
	}
	if r := rep.results[1]; r.ddb != r.s.requests() {
		t.Errorf("a replay costs one DynamoDB request: %d for %d requests", r.ddb, r.s.requests())
	}
	if len(rep.sequential) != 2 {
		t.Fatalf("%d one-at-a-time paths", len(rep.sequential))
	}
	for _, s := range rep.sequential {
		if s.api.requests() == 0 || s.put.requests() != s.api.requests() || s.orders != s.keys || s.charges != s.keys {
			t.Errorf("one at a time, %s: %d requests, %d PutItems, keys %d, orders %d, charges %d",
				s.name, s.api.requests(), s.put.requests(), s.keys, s.orders, s.charges)
		}
		// The replay's own baseline: one failed conditional PutItem of its record per replay,
		// and the replay itself one DynamoDB request.
		if s.name == "replay" && (s.cond == nil || s.cond.requests() != s.api.requests() || s.ddb != s.api.requests()) {
			t.Errorf("one at a time, replay: %d replays, %d DynamoDB requests, conditional PutItems %v", s.api.requests(), s.ddb, s.cond)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| unique | 8 |", "| storm | 8 |", "### Baseline", "### One request at a time", "a failed conditional PutItem (ALL_OLD) of the replayed key's own record", runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(string(md), s) {
			t.Errorf("REPORT.md lacks %q:\n%s", s, md)
		}
	}
}

// TestTarget drives an external API: the counts it cannot see are n/a, not zero.
func TestTarget(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	out := t.TempDir()
	o, err := parseFlags([]string{"-target", "http://" + ln.Addr().String(), "-clients", "2", "-requests", "4",
		"-warmup", "0", "-replay-keys", "2", "-scenarios", "unique,storm", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.results) != 2 || rep.results[0].orders != -1 || rep.results[0].ddb != -1 || rep.results[0].s.status[201] != 4 {
		t.Fatalf("results %+v", rep.results)
	}
	md, _ := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if !strings.Contains(string(md), "| n/a | n/a |") {
		t.Fatalf("REPORT.md has no n/a counts:\n%s", md)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-scenarios", "unique,flood"},
		{"-scenarios", ","},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.clients != 16 || len(o.scenarios) != 3 || o.out != "bench" {
		t.Fatalf("defaults %+v, %v", o, err)
	}
}

// TestColdstartEvents checks the events the cold starts send: a fresh key per checkout run,
// and a webhook whose new event id is signed so the function's verifier accepts it.
func TestColdstartEvents(t *testing.T) {
	raw, err := os.ReadFile("../../events/checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := checkoutEvent(raw, 1, "x", nil)
	b, _ := checkoutEvent(raw, 2, "x", nil)
	if bytes.Equal(a, b) || !bytes.Contains(a, []byte(`"idempotency-key":"coldstart-x-1"`)) {
		t.Fatalf("checkout events:\n%s\n%s", a, b)
	}

	raw, err = os.ReadFile("../../events/webhook-stripe.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := webhookEvent(raw, 3, "x", []string{"ord_a", "ord_b"})
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := webhook.NewStripeVerifier([]string{coldWebhookSecret}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(webhook.StripeSignatureHeader, e.Headers["stripe-signature"])
	d, err := v.Verify(h, body, time.Now())
	if err != nil {
		t.Fatalf("the signed event does not verify: %v", err)
	}
	if !bytes.Contains(body, []byte(`"id":"evt_coldstart_x_3"`)) || !bytes.Contains(body, []byte(`"order_id":"ord_b"`)) {
		t.Fatalf("event id not replaced: %s (%+v)", body, d)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestAnsweredOrderID(t *testing.T) {
	for _, tc := range []struct{ resp, want string }{
		{`{"statusCode":201,"body":"{\"order_id\":\"ord_1\"}"}`, "ord_1"},
		{`{"statusCode":201,"body":"eyJvcmRlcl9pZCI6Im9yZF8yIn0=","isBase64Encoded":true}`, "ord_2"},
		{`{"statusCode":400,"body":"{\"title\":\"bad\"}"}`, ""},
		{`not json`, ""},
	} {
		if got := answeredOrderID([]byte(tc.resp)); got != tc.want {
			t.Errorf("answeredOrderID(%s) = %q, want %q", tc.resp, got, tc.want)
		}
	}
}
