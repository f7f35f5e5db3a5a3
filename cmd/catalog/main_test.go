package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func write(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestABadFileExitsWithEveryError(t *testing.T) {
	var out, errs bytes.Buffer
	f := write(t, `{"products":[{"sku":"a#1","name":"","prices":{"usd":1}}]}`)
	if code := run(t.Context(), []string{"-file", f, "-table", "t", "-endpoint", "http://127.0.0.1:1"}, &out, &errs); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
	if len(lines) != 3 || !strings.Contains(errs.String(), "sku: must match") || !strings.Contains(errs.String(), "name: must be") ||
		!strings.Contains(errs.String(), "prices.usd: 1 is below") {
		t.Fatalf("stderr:\n%s\nwant the sku, name and price errors, one JSON line each", errs.String())
	}
}

func TestMissingFlagsExit2(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"-file", "x.json"}, &out, &errs); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}

func TestLoadsTheSampleTwice(t *testing.T) {
	endpoint := testenv.DynamoEndpoint(t)
	f := write(t, string(catalog.SampleJSON()))
	table := "catalog-cmd-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + filepath.Base(t.TempDir())
	for i, want := range []int{6, 0} {
		var out, errs bytes.Buffer
		if code := run(t.Context(), []string{"-file", f, "-table", table, "-endpoint", endpoint, "-create"}, &out, &errs); code != 0 {
			t.Fatalf("load %d: exit %d\n%s%s", i, code, out.String(), errs.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var last struct {
			Msg     string `json:"msg"`
			Changed int    `json:"changed"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Msg != "loaded" || last.Changed != want {
			t.Fatalf("load %d: last line %s (%v), want loaded with %d changed", i, lines[len(lines)-1], err, want)
		}
		if len(lines) != want+1 {
			t.Errorf("load %d: %d lines, want one per change and a summary:\n%s", i, len(lines), out.String())
		}
	}
}
