package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// deployment sets the environment the template gives the function, on fresh DynamoDB Local
// tables, and returns the orders store and the two live Stripe secrets (a rotation).
func deployment(t *testing.T) (orders.Store, [2]string) {
	t.Helper()
	client := testenv.DynamoClient(t)
	ordersTable := testenv.Table(t, client, orders.Table("webhook-fn-orders"))
	secrets := [2]string{webhook.NewSecret(), webhook.NewSecret()}
	for k, v := range map[string]string{
		config.EnvIdempotencyTable:      testenv.Table(t, client, idem.Table("webhook-fn-idem")),
		config.EnvOrdersTable:           ordersTable,
		config.EnvDynamoDBEndpoint:      testenv.DynamoEndpoint(t),
		config.EnvStripeWebhookSecret:   secrets[0] + "," + secrets[1],
		config.EnvStandardWebhookSecret: "",
		"AWS_REGION":                    "us-east-1",
		"AWS_ACCESS_KEY_ID":             "local",
		"AWS_SECRET_ACCESS_KEY":         "local",
	} {
		t.Setenv(k, v)
	}
	return orders.NewDynamoStore(client, ordersTable), secrets
}

// sampleEvent is events/webhook-stripe.json (what `sam local invoke` sends) carrying body,
// signed at ts with both secrets as Stripe does during a rotation: `t=..,v1=..,v1=..`, whose
// commas the adapter splits into separate header values.
func sampleEvent(t *testing.T, body []byte, ts time.Time, secrets ...string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile("../../events/webhook-stripe.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	sig := "t=" + strconv.FormatInt(ts.Unix(), 10)
	for _, s := range secrets {
		_, v1, _ := strings.Cut(webhook.SignStripe(s, ts, body), ",")
		sig += "," + v1
	}
	for k := range ev.Headers {
		if strings.EqualFold(k, webhook.StripeSignatureHeader) {
			delete(ev.Headers, k)
		}
	}
	ev.Headers["stripe-signature"] = sig
	ev.Headers["content-length"] = strconv.Itoa(len(body))
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	return ev
}

func header(res events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range res.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range res.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			return strings.Join(v, ",")
		}
	}
	return ""
}

func TestLambdaAppliesASignedDeliveryOnce(t *testing.T) {
	store, secrets := deployment(t)
	ctx := t.Context()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	handler, err := newHandler(ctx, cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "webhook function started") || strings.Contains(logs.String(), secrets[0]) {
		t.Fatalf("start-up log:\n%s", logs.String())
	}
	proxy := httpadapter.NewV2(handler).ProxyWithContext
	now := time.Now()
	if err := store.Create(ctx, orders.Order{ID: "ord_lambda", Amount: 1999, Currency: "eur", Status: orders.Pending,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"id": "evt_lambda_1", "object": "event", "type": "payment_intent.succeeded", "created": now.Unix(),
		"pending_webhooks": 1, "data": map[string]any{"object": map[string]any{
			"id": "pi_lambda_1", "object": "payment_intent", "amount": 1999, "currency": "eur",
			"status": "succeeded", "metadata": map[string]string{"order_id": "ord_lambda"}}},
	})

	res, err := proxy(ctx, sampleEvent(t, body, now, secrets[0], secrets[1]))
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"applied":true`) {
		t.Fatalf("first delivery: %d %s %v", res.StatusCode, res.Body, err)
	}
	paid, err := store.Get(ctx, "ord_lambda")
	if err != nil || paid.Status != orders.Paid || paid.PaymentIntentID != "pi_lambda_1" {
		t.Fatalf("order %+v, %v; want paid with its intent", paid, err)
	}

	t.Run("a redelivery with a new timestamp and signature replays and changes nothing", func(t *testing.T) {
		again, err := proxy(ctx, sampleEvent(t, body, now.Add(-30*time.Second), secrets[0], secrets[1]))
		if err != nil || again.StatusCode != http.StatusOK || header(again, idem.ReplayedHeader) != "true" || again.Body != res.Body {
			t.Fatalf("redelivery: %d %v %s %v", again.StatusCode, again.Headers, again.Body, err)
		}
		if o, err := store.Get(ctx, "ord_lambda"); err != nil || !reflect.DeepEqual(o, paid) {
			t.Fatalf("order changed: %+v, %v", o, err)
		}
	})
	t.Run("a delivery signed with only the new secret is accepted", func(t *testing.T) {
		got, err := proxy(ctx, sampleEvent(t, body, now, secrets[1]))
		if err != nil || got.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s %v", got.StatusCode, got.Body, err)
		}
	})
	t.Run("a forged signature is refused", func(t *testing.T) {
		forged := sampleEvent(t, body, now, webhook.NewSecret())
		got, err := proxy(ctx, forged)
		if err != nil || got.StatusCode != http.StatusBadRequest || !strings.Contains(got.Body, "webhook-signature-invalid") {
			t.Fatalf("got %d %s %v", got.StatusCode, got.Body, err)
		}
	})
	t.Run("the sample event's placeholder signature is refused", func(t *testing.T) {
		raw, _ := os.ReadFile("../../events/webhook-stripe.json")
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		got, err := proxy(ctx, ev)
		if err != nil || got.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d %s %v", got.StatusCode, got.Body, err)
		}
	})
}

func TestNewHandler(t *testing.T) {
	t.Run("without any secret it starts, logs an error and refuses deliveries", func(t *testing.T) {
		deployment(t)
		t.Setenv(config.EnvStripeWebhookSecret, "")
		cfg, err := config.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		handler, err := newHandler(t.Context(), cfg, &logs)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "no webhook secret") {
			t.Fatalf("logs:\n%s", logs.String())
		}
		body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`)
		res, err := httpadapter.NewV2(handler).ProxyWithContext(t.Context(), sampleEvent(t, body, time.Now(), webhook.NewSecret()))
		if err != nil || res.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d %s %v", res.StatusCode, res.Body, err)
		}
	})
	for _, tt := range []struct{ name, env, value string }{
		{"an API key in place of the Stripe signing secret is a start-up error", config.EnvStripeWebhookSecret, "sk_test_123"},
		{"an undecodable Standard Webhooks secret is a start-up error", config.EnvStandardWebhookSecret, "whsec_***"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			deployment(t)
			t.Setenv(tt.env, tt.value)
			cfg, err := config.FromEnv()
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			_, err = newHandler(t.Context(), cfg, &logs)
			if err == nil || !strings.Contains(err.Error(), tt.env) {
				t.Fatalf("newHandler error = %v, want one naming %s", err, tt.env)
			}
			if strings.Contains(err.Error(), tt.value) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}
