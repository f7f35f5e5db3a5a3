package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/cmd/loadgen/capacity"
	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// capacityOp is one operation and the DynamoDB requests it made.
type capacityOp struct {
	name    string
	calls   []capacity.Call
	stats   callStats
	localCU float64 // what DynamoDB Local returned, summed (transactions repeated per table)
}

// capacityReport is the consumed capacity of each operation, measured one at a time through
// the HTTP handlers on DynamoDB Local.
type capacityReport struct {
	ops      []capacityOp
	failures []string
}

// recorder keeps the Calls of the operation in progress.
type recorder struct {
	mu    sync.Mutex
	calls []capacity.Call
}

func (r *recorder) record(c capacity.Call) { r.mu.Lock(); r.calls = append(r.calls, c); r.mu.Unlock() }

func (r *recorder) take() []capacity.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// measureCapacity runs each operation once, in order, on fresh tables: a checkout with a card
// (first time), its replay, a checkout without a card (the order stays pending), the Stripe
// webhook that marks that order paid, and the same event delivered again (Stripe's retry: same
// event id, new signature).
func measureCapacity(ctx context.Context, sys *system, log io.Writer) (*capacityReport, error) {
	fmt.Fprintln(log, "capacity: one operation at a time, consumed capacity asked of DynamoDB ...")
	rec := &recorder{}
	cfg := sys.cfg
	prefix := fmt.Sprintf("capacity-%s", randomID())
	cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable = prefix+"-idempotency", prefix+"-orders", prefix+"-catalog"
	cfg.StripeWebhookSecrets = []string{coldWebhookSecret}
	deps, err := app.Load(ctx, cfg, io.Discard, app.Options{
		EnsureTables:    true,
		DynamoDBOptions: []func(*dynamodb.Options){capacity.Option(rec.record)},
	})
	if err != nil {
		return nil, err
	}
	defer dropTables(deps.DynamoDB, cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable)
	deps.Payments, deps.Provider = payment.NewLocal(), "local"
	h, err := localapi.Handler(deps, nil)
	if err != nil {
		return nil, err
	}
	rep := &capacityReport{}
	serve := func(name string, r *http.Request, want int) *httptest.ResponseRecorder {
		rec.take()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		calls := rec.take()
		op := capacityOp{name: name, calls: calls, stats: summarizeCalls(calls, 1)}
		for _, c := range calls {
			op.localCU += max(c.CU, 0)
		}
		if w.Code != want {
			rep.failures = append(rep.failures, fmt.Sprintf("capacity, %s: status %d, want %d: %s", name, w.Code, want, strings.TrimSpace(w.Body.String())))
		}
		rep.ops = append(rep.ops, op)
		return w
	}
	key := "capacity-" + randomID()
	post := func(key, body string) *http.Request {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/checkout", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(idem.KeyHeader, key)
		return r
	}
	// Claim with the order (created), charge, the order's outcome and answer in one transaction.
	serve("checkout, first request", post(key, checkoutBody), http.StatusCreated)
	// The losing claim returns the stored answer.
	serve("checkout, replay", post(key, checkoutBody), http.StatusCreated)
	// Same path; the order stays pending.
	pending := serve("checkout without a card (for the webhook)", post(key+"-pending", pendingBody), http.StatusCreated)
	var answer struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(pending.Body.Bytes(), &answer); err != nil || answer.OrderID == "" {
		return nil, fmt.Errorf("capacity: the pending checkout answered %q", pending.Body.String())
	}
	body, err := webhookBody(answer.OrderID, "evt_capacity_"+randomID())
	if err != nil {
		return nil, err
	}
	hook := func() *http.Request {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Stripe-Signature", webhook.SignStripe(coldWebhookSecret, time.Now(), body))
		return r
	}
	// Claim the event id, move the order to paid (conditional), store the answer.
	serve("webhook delivery", hook(), http.StatusOK)
	// The losing claim returns the stored answer.
	serve("webhook, duplicate delivery", hook(), http.StatusOK)
	return rep, nil
}

// webhookBody is the body of events/webhook-stripe.json as event id, about orderID.
func webhookBody(orderID, id string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "webhook-stripe.json"))
	if err != nil {
		return nil, err
	}
	ev, err := webhookEvent(raw, 0, "", []string{orderID})
	if err != nil {
		return nil, err
	}
	var e struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(ev, &e); err != nil {
		return nil, err
	}
	b := answeredBody([]byte(fmt.Sprintf(`{"body":%q,"isBase64Encoded":true}`, e.Body)))
	var payload map[string]any
	if err := json.Unmarshal(b, &payload); err != nil {
		return nil, err
	}
	payload["id"] = id
	return json.Marshal(payload)
}
