package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// serve starts the local server as `make run` does and returns its URL and a stop function
// that waits for the graceful shutdown.
func serve(t *testing.T, env map[string]string) (string, *testenv.LogBuffer, func() error) {
	t.Helper()
	t.Setenv("PORT", "0")
	t.Setenv("HOST", "127.0.0.1")
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	logs := &testenv.LogBuffer{}
	go func() { errc <- run(ctx, logs, ready) }()
	select {
	case addr := <-ready:
		return "http://" + addr, logs, func() error { cancel(); return <-errc }
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v", err)
		return "", nil, nil
	}
}

func post(t *testing.T, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func exercise(t *testing.T, base string) {
	t.Helper()
	body := `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur","payment_method":"pm_card_visa"}`
	first, a := post(t, base+"/checkout", "local-1", body)
	second, b := post(t, base+"/checkout", "local-1", body)
	if first.StatusCode != 201 || second.StatusCode != 201 || a != b || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d %s, second %d %s %v", first.StatusCode, a, second.StatusCode, b, second.Header)
	}
	if mismatch, _ := post(t, base+"/checkout", "local-1", strings.Replace(body, `"quantity":1`, `"quantity":2`, 1)); mismatch.StatusCode != 422 {
		t.Fatalf("mismatch = %d", mismatch.StatusCode)
	}
	var order struct {
		OrderID string `json:"order_id"`
		Status  string `json:"status"`
		Amount  int64  `json:"amount"`
		Lines   []struct {
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		} `json:"lines"`
	}
	if err := json.Unmarshal([]byte(a), &order); err != nil {
		t.Fatal(err)
	}
	if order.Amount != 2300 || len(order.Lines) != 1 || order.Lines[0].SKU != "tee-black-m" || order.Lines[0].Quantity != 1 {
		t.Fatalf("order %s: want one tee-black-m at the catalog's eur 2300", a)
	}
	products, err := http.Get(base + "/products")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := io.ReadAll(products.Body)
	products.Body.Close()
	if products.StatusCode != 200 || !strings.Contains(string(list), `"tee-black-m"`) {
		t.Fatalf("GET /products = %d %s, want the sample catalog", products.StatusCode, list)
	}
	resp, err := http.Get(base + "/orders/" + order.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if order.Status != "paid" || resp.StatusCode != 200 {
		t.Fatalf("order %+v, GET = %d", order, resp.StatusCode)
	}
	if resp, _ := post(t, base+"/webhooks", "", `{}`); resp.StatusCode != 400 {
		t.Fatalf("unsigned webhook = %d", resp.StatusCode)
	}
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), `id="pay"`) {
		t.Fatalf("GET / = %d, want the checkout page", page.StatusCode)
	}
}

func TestLocalServerInMemory(t *testing.T) {
	base, logs, stop := serve(t, map[string]string{"DYNAMODB_ENDPOINT": "", "AWS_ENDPOINT_URL_DYNAMODB": "", "STRIPE_SECRET_KEY": ""})
	exercise(t, base)
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"storage":"memory"`, `"payments":"local"`, `"msg":"request"`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestLocalServerOnDynamoDBLocalCreatesTables(t *testing.T) {
	endpoint := testenv.DynamoEndpoint(t)
	base, _, stop := serve(t, map[string]string{
		"DYNAMODB_ENDPOINT": endpoint, "STRIPE_SECRET_KEY": "",
		"IDEMPOTENCY_TABLE": "local-idem-" + t.Name(), "ORDERS_TABLE": "local-orders-" + t.Name(),
		"CATALOG_TABLE": "local-catalog-" + t.Name(),
	})
	exercise(t, base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A second start finds the tables and keeps the data: the replay still works.
	base, _, stop = serve(t, map[string]string{
		"DYNAMODB_ENDPOINT": endpoint, "STRIPE_SECRET_KEY": "",
		"IDEMPOTENCY_TABLE": "local-idem-" + t.Name(), "ORDERS_TABLE": "local-orders-" + t.Name(),
		"CATALOG_TABLE": "local-catalog-" + t.Name(),
	})
	defer stop()
	resp, _ := post(t, base+"/checkout", "local-1", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur","payment_method":"pm_card_visa"}`)
	if resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("not replayed after a restart on the same tables")
	}
}

func TestLocalServerDefaults(t *testing.T) {
	base, logs, stop := serve(t, map[string]string{"HOST": "", "DYNAMODB_ENDPOINT": "", "AWS_ENDPOINT_URL_DYNAMODB": "",
		"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "STANDARD_WEBHOOK_SECRET": ""})
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("listening at %s, want 127.0.0.1 when HOST is unset", base)
	}
	resp, err := http.Get(base + "/no-such-thing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET /no-such-thing = %d %s, want a 404 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	out := logs.String()
	if strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, "STRIPE_WEBHOOK_SECRET=") || !strings.Contains(out, "stripe listen") {
		t.Errorf("the default run should explain how to set a webhook secret, without an error line:\n%s", out)
	}
}
