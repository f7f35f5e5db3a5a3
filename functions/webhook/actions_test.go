package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// The DynamoDB actions the handler performs must all be granted by the template
// (samtemplate.Functions, which its test compares exactly with template.yaml).
func TestEveryDynamoDBActionIsGranted(t *testing.T) {
	store, secrets := deployment(t)
	rec := &testenv.DynamoActions{}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(t.Context(), cfg, io.Discard, rec.Option())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httpadapter.NewV2(h).ProxyWithContext
	now := time.Now()
	if err := store.Create(t.Context(), orders.Order{ID: "ord_grants", Amount: 1999, Currency: "eur", Status: orders.Pending,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": "evt_grants_1", "object": "event", "type": "payment_intent.succeeded",
		"created": now.Unix(), "data": map[string]any{"object": map[string]any{"id": "pi_grants", "object": "payment_intent",
			"amount": 1999, "currency": "eur", "status": "succeeded", "metadata": map[string]string{"order_id": "ord_grants"}}}})
	for range 2 { // applied, then replayed
		res, err := proxy(t.Context(), sampleEvent(t, body, now, secrets[0]))
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "applied") {
			t.Fatalf("delivery: %d %s %v", res.StatusCode, res.Body, err)
		}
	}
	rec.CheckGranted(t, "WebhookFunction", "dynamodb:PutItem", "dynamodb:UpdateItem")
}
