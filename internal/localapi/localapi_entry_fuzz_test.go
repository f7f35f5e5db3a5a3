package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// Fixed webhook secrets (24 bytes of base64, as webhook.NewSecret makes), so that seeds and
// crashers reproduce.
const (
	stripeSecret   = "whsec_ZnV6ei1zdHJpcGUtc2VjcmV0LTAwMDAwMDAw"
	standardSecret = "whsec_ZnV6ei1zdGFuZGFyZC1zZWNyZXQtMDAwMDAw"
	knownOrder     = "ord_fuzz" // an order that exists, so that events can apply
)

// api is the whole local API on in-memory stores and the local payment provider: a fresh one
// per input, so every input is a reproducible case of its own.
type api struct {
	h      http.Handler
	local  *payment.Local
	orders *testenv.Orders
}

func newAPI(t *testing.T) api {
	t.Helper()
	cfg := config.Config{
		IdempotencyTable: "fuzz-idempotency", OrdersTable: "fuzz-orders",
		IdempotencyTTL: time.Hour, IdempotencyWait: time.Second,
		StripeWebhookSecrets: []string{stripeSecret}, StandardWebhookSecrets: []string{standardSecret},
		LogLevel: "error",
	}
	deps, err := app.Load(t.Context(), cfg, io.Discard, app.Options{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	local, ok := deps.Payments.(*payment.Local)
	if !ok {
		t.Fatalf("payments are %T, want the local provider", deps.Payments)
	}
	counted := testenv.NewOrders(deps.Orders)
	deps.Orders = counted
	h, err := localapi.Handler(deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return api{h: h, local: local, orders: counted}
}

// headerValue returns v as net/http's server would hand it to a handler, or false when the
// server would refuse the request (a control character other than tab): leading and trailing
// spaces and tabs are trimmed.
func headerValue(v string) (string, bool) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return "", false
		}
	}
	return strings.Trim(v, " \t"), true
}

// newRequest builds the request a server would parse from these parts, or returns nil for
// parts no server would deliver (an invalid method, a target that is not an absolute path).
func newRequest(ctx context.Context, method, target string, headers map[string]string, body []byte) *http.Request {
	if !strings.HasPrefix(target, "/") {
		return nil
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
		return nil
	}
	r, err := http.NewRequestWithContext(ctx, method, "http://localhost"+target, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	r.URL, r.RequestURI, r.Host = u, target, "localhost"
	for k, v := range headers {
		if v == "" {
			continue // an absent header
		}
		v, ok := headerValue(v)
		if !ok {
			return nil
		}
		r.Header.Set(k, v)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkAnswer enforces what every answer of the API must be: never a 5xx (the in-memory stores
// and the local provider cannot fail, so none is legitimate here, except what allow accepts),
// and every 4xx an RFC 9457 problem whose type is one of ours.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, allow func(problem.Problem) bool) {
	t.Helper()
	if w.Code < 400 {
		return
	}
	var p problem.Problem
	ct := w.Header().Get("Content-Type")
	err := json.Unmarshal(w.Body.Bytes(), &p)
	if ct != problem.ContentType || err != nil || !strings.HasPrefix(p.Type, "/problems/") || p.Status != w.Code {
		t.Fatalf("answer %d %q %q is not a problem of ours (%v)", w.Code, ct, w.Body, err)
	}
	if w.Code >= 500 && (allow == nil || !allow(p)) {
		t.Fatalf("answer %d: %s", w.Code, w.Body)
	}
}

// validCheckout buys one tee-black-m of the sample catalog at its usd price, 2500.
const validCheckout = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"usd","payment_method":"pm_card_visa","customer_email":"buyer@example.com"}`

// FuzzCheckoutRequest sends any request to the checkout entry point (any method, path,
// Idempotency-Key, Content-Type and body), then the same request again. Invariants: no panic,
// no 5xx, every 4xx a problem with a /problems/ type, a 201 (or a stored 402) repeated
// byte for byte with Idempotent-Replayed: true, and no more PaymentIntents than keys that
// answered 201 or 402 (here: one key per input).
func FuzzCheckoutRequest(f *testing.F) {
	long := strings.Repeat("k", 255)
	seeds := []struct{ method, path, key, ct, body string }{
		{"POST", "/checkout", "k1", "application/json", validCheckout},
		{"POST", "/checkout", "", "application/json", validCheckout},
		{"POST", "/checkout", "k1", "application/json", ""},
		{"POST", "/checkout", "k1", "", validCheckout},
		{"POST", "/checkout", "k1", "text/plain", validCheckout},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"` + strings.Repeat("x", 20000) + `","quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", long, "application/json", validCheckout},
		{"POST", "/checkout", long + "k", "application/json", validCheckout},
		{"POST", "/checkout", "ключ-🔑", "application/json", validCheckout},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"корзина🛒","quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", `"quoted-key"`, "application/json", validCheckout},
		{"POST", "/checkout", `"quoted \"escaped\" key"`, "application/json", validCheckout},
		{"POST", "/checkout", `"unterminated`, "application/json", validCheckout},
		{"POST", "/checkout", "a,b", "application/json", validCheckout},
		{"POST", "/checkout", `"a,b"`, "application/json", validCheckout},
		{"POST", "/checkout", "key with spaces", "application/json", validCheckout},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":5,"quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":"2500","currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":10.5,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":1e3,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":-2500,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":0,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":99999999999999999999,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"USD"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"xxx"}`},
		{"POST", "/checkout", "k1", "application/json", validCheckout + `{}`},
		{"POST", "/checkout", "k1", "application/json", validCheckout + ` x`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":1,"amount":2,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"Amount":2500,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"usd","extra":true}`},
		{"POST", "/checkout", "k1", "application/json", `null`},
		{"POST", "/checkout", "k1", "application/json", `[]`},
		{"POST", "/checkout", "k1", "application/json", `{}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd","payment_method":"pm_card_chargeDeclined"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd","payment_method":"pm_card_chargeDeclinedProcessingError"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd","payment_method":"pm_card_authenticationRequired"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"eur"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd","payment_method":"pm_nosuchmethod"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"jpy","customer_email":"not an email"}`},
		{"POST", "/checkout", "k1", "application/json", `{"cart_id":"c","amount":1099,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"no-such-sku","quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"cap-retired","quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":1999,"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"mug-enamel","quantity":3}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":0}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":100}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"tee-black-m","quantity":1},{"sku":"tee-black-m","quantity":1}],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[],"currency":"usd"}`},
		{"POST", "/checkout", "k1", "application/json", `{"items":[{"sku":"hoodie-drop-01","quantity":2},{"sku":"sticker-pack","quantity":3}],"amount":19300,"currency":"usd"}`},
		{"GET", "/products", "", "", ""},
		{"GET", "/products/tee-black-m", "", "", ""},
		{"GET", "/products/no-such-sku", "", "", ""},
		{"GET", "/checkout", "", "", ""},
		{"DELETE", "/checkout", "k1", "", ""},
		{"PUT", "/checkout", "k1", "application/json", validCheckout},
		{"GET", "/orders/ord_000000000000000000000000", "", "", ""},
		{"GET", "/orders/../checkout", "", "", ""},
		{"POST", "/orders/x", "k1", "application/json", validCheckout},
		{"POST", "/checkout/", "k1", "application/json", validCheckout},
		{"POST", "//checkout", "k1", "application/json", validCheckout},
		{"POST", "/checkout?x=1", "k1", "application/json", validCheckout},
		{"POST", "/nowhere", "k1", "application/json", validCheckout},
		{"POST", "/webhooks", "k1", "application/json", validCheckout},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.key, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, key, contentType string, body []byte) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		a := newAPI(t)
		send := func() *httptest.ResponseRecorder {
			r := newRequest(ctx, method, path, map[string]string{idem.KeyHeader: key, "Content-Type": contentType}, body)
			if r == nil {
				return nil
			}
			return serve(a.h, r)
		}
		first := send()
		if first == nil {
			return // no server would deliver this request
		}
		checkAnswer(t, first, nil)
		again := send()
		checkAnswer(t, again, nil)
		answered := 0 // keys that answered 201 or 402: at most this one
		if first.Code == http.StatusCreated || first.Code == http.StatusPaymentRequired {
			answered = 1
			if again.Code != first.Code || again.Header().Get(idem.ReplayedHeader) != "true" ||
				!bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) ||
				again.Header().Get("Location") != first.Header().Get("Location") {
				t.Fatalf("first answer %d %q\nrepeat %d %v %q\nwant the same bytes with %s: true",
					first.Code, first.Body, again.Code, again.Header(), again.Body, idem.ReplayedHeader)
			}
		}
		if first.Code == http.StatusCreated {
			var res checkout.Response
			if err := json.Unmarshal(first.Body.Bytes(), &res); err != nil || res.OrderID == "" || res.PaymentIntentID == "" {
				t.Fatalf("201 body %q: %v", first.Body, err)
			}
		}
		if n := a.local.Created(); n > answered {
			t.Fatalf("%d PaymentIntents for %d keys that answered 201 or 402 (answers %d, %d)", n, answered, first.Code, again.Code)
		}
		// An order exists from the claim on, so any request that reached the provider may have
		// one (a refused one is failed); one key, at most one order, and never a settled order
		// without a 201 or 402 for it.
		claimed := 0
		if first.Code != http.StatusBadRequest && first.Code != http.StatusUnsupportedMediaType &&
			first.Code != http.StatusRequestEntityTooLarge && first.Code != http.StatusNotFound &&
			first.Code != http.StatusMethodNotAllowed {
			claimed = 1
		}
		if first.Code == http.StatusBadRequest && strings.Contains(first.Body.String(), problem.ProviderRefused) {
			claimed = 1
		}
		if n, err := a.orders.Count(ctx); err != nil || n > claimed {
			t.Fatalf("%d orders (%v) for %d claimed keys (answers %d %s)", n, err, claimed, first.Code, first.Body)
		}
	})
}

// event returns a Stripe event body of type typ about order orderID.
func event(id, typ, orderID string, created int64) string {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created,
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": map[string]any{
			"id": "pi_" + id, "object": "payment_intent", "status": "succeeded", "amount": 1099, "currency": "usd",
			"metadata": map[string]string{"order_id": orderID}}}})
	return string(b)
}

// Signing modes of FuzzWebhookRequest: the fuzzer cannot forge an HMAC, so a mode re-signs the
// mutated body at the wall clock's now, letting it reach event parsing and application.
const (
	signAsGiven    = 0 // the headers as the input has them
	signStripe     = 1 // Stripe-Signature replaced by a valid one for the body
	signStandard   = 2 // webhook-timestamp and webhook-signature replaced by valid ones for webhook-id and the body
	signBothStripe = 3 // both schemes' headers valid: Stripe-Signature wins
)

// FuzzWebhookRequest sends any delivery to POST /webhooks (any Stripe-Signature, webhook-id,
// webhook-timestamp, webhook-signature and body, optionally re-signed validly), then the same
// delivery again. Invariants: no panic; no 5xx except the documented 503
// webhook-event-not-applied (with Retry-After) for a young event about an order that does not
// exist; every 4xx a problem with a /problems/ type; every 200 a webhook.Result, repeated byte
// for byte with Idempotent-Replayed: true; no order is ever created by a webhook.
func FuzzWebhookRequest(f *testing.F) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Unix()
	paid := event("evt_1", "payment_intent.succeeded", knownOrder, created)
	seeds := []struct {
		stripeSig, id, ts, sig, body string
		sign                         uint8
	}{
		{"", "", "", "", paid, signStripe},
		{"", "msg_1", "", "", paid, signStandard},
		{"", "msg_1", "", "", paid, signBothStripe},
		{"", "", "", "", event("evt_2", "charge.refunded", knownOrder, created), signStripe},
		{"", "", "", "", event("evt_3", "payment_intent.payment_failed", knownOrder, created), signStripe},
		{"", "", "", "", event("evt_4", "customer.created", knownOrder, created), signStripe},
		{"", "", "", "", event("evt_5", "payment_intent.succeeded", "", created), signStripe},
		{"", "", "", "", event("evt_6", "payment_intent.succeeded", "ord_unknown", created), signStripe},
		{"", "", "", "", event("evt_7", "payment_intent.succeeded", "ord_ключ🔑", created), signStripe},
		{"", "", "", "", paid + `{}`, signStripe},
		{"", "", "", "", `{"id":"evt_8","id":"evt_9","object":"event","type":"payment_intent.succeeded","created":1740830400,"data":{"object":{"id":"pi_1","metadata":{"order_id":"ord_fuzz"}}}}`, signStripe},
		{"", "", "", "", `{"id":8,"object":"event","type":"payment_intent.succeeded","created":"x","data":{"object":{"id":"pi_1","metadata":{"order_id":5}}}}`, signStripe},
		{"", "", "", "", `{"id":"evt_10","type":"payment_intent.succeeded","created":-1,"data":null}`, signStripe},
		{"", "", "", "", `{}`, signStripe},
		{"", "", "", "", ``, signStripe},
		{"", "", "", "", `not json`, signStripe},
		{"", "", "", "", strings.Repeat("x", 300000), signStripe},
		{"t=1740830400,v1=" + strings.Repeat("0", 64), "", "", "", paid, signAsGiven},
		{"t=1740830400,v1=zz,v0=abc", "", "", "", paid, signAsGiven},
		{"t=,v1=", "", "", "", paid, signAsGiven},
		{"t=99999999999999999999,v1=00", "", "", "", paid, signAsGiven},
		{"t=-1,v1=00,v1=11", "", "", "", paid, signAsGiven},
		{"v1=00", "", "", "", paid, signAsGiven},
		{",,,=,", "", "", "", paid, signAsGiven},
		{"", "msg_1", "1740830400", "v1,AAAA", paid, signAsGiven},
		{"", "msg_1", "-1", "v1,AAAA v1a,BBBB", paid, signAsGiven},
		{"", "msg_1", "1e10", "v1,", paid, signAsGiven},
		{"", "", "1740830400", "v1,AAAA", paid, signAsGiven},
		{"", "msg_1", "", "", paid, signAsGiven},
		{"", "", "", "", paid, signAsGiven},
	}
	for _, s := range seeds {
		f.Add(s.stripeSig, s.id, s.ts, s.sig, []byte(s.body), s.sign)
	}
	f.Fuzz(func(t *testing.T, stripeSig, whID, whTimestamp, whSignature string, body []byte, sign uint8) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		a := newAPI(t)
		now := time.Now()
		if err := a.orders.Create(ctx, orders.Order{ID: knownOrder, CartID: "c", Amount: 1099, Currency: "usd",
			Status: orders.Pending, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		switch sign % 4 {
		case signStripe, signBothStripe:
			stripeSig = webhook.SignStripe(stripeSecret, now, body)
		}
		switch sign % 4 {
		case signStandard, signBothStripe:
			if h, err := webhook.SignStandard(standardSecret, whID, now, body); err == nil {
				whTimestamp, whSignature = h.Get(webhook.StandardTimestampHeader), h.Get(webhook.StandardSignatureHeader)
			}
		}
		headers := map[string]string{"Content-Type": "application/json", webhook.StripeSignatureHeader: stripeSig,
			webhook.StandardIDHeader: whID, webhook.StandardTimestampHeader: whTimestamp, webhook.StandardSignatureHeader: whSignature}
		send := func() *httptest.ResponseRecorder {
			r := newRequest(ctx, http.MethodPost, webhook.Path, headers, body)
			if r == nil {
				return nil
			}
			return serve(a.h, r)
		}
		// The one 5xx the webhook answers by design: a young event whose order is not stored yet.
		inFlight := func(p problem.Problem) bool {
			ev, err := webhook.ParseEvent(body)
			return p.Status == http.StatusServiceUnavailable && p.Type == problem.EventNotApplied && p.RetryAfter > 0 &&
				err == nil && ev.Object.OrderID != knownOrder
		}
		first := send()
		if first == nil {
			return // no server would deliver this request
		}
		checkAnswer(t, first, inFlight)
		again := send()
		checkAnswer(t, again, inFlight)
		if first.Code == http.StatusOK {
			var res webhook.Result
			if err := json.Unmarshal(first.Body.Bytes(), &res); err != nil || !res.Received ||
				first.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("200 body %q: %v", first.Body, err)
			}
			if again.Code != http.StatusOK || again.Header().Get(idem.ReplayedHeader) != "true" ||
				!bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
				t.Fatalf("first answer %d %q\nrepeat %d %v %q\nwant the same bytes with %s: true",
					first.Code, first.Body, again.Code, again.Header(), again.Body, idem.ReplayedHeader)
			}
		} else if first.Code >= 200 && first.Code < 300 {
			t.Fatalf("answer %d %q: a delivery is acknowledged with 200 only", first.Code, first.Body)
		}
		if n, err := a.orders.Count(ctx); err != nil || n != 1 {
			t.Fatalf("%d orders (%v) after a webhook, want the 1 created by the test", n, err)
		}
		if a.local.Calls() != 0 {
			t.Fatalf("a webhook called the payment provider %d times", a.local.Calls())
		}
	})
}
