package rie

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/lambdaevent"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const root = "../.."

// build runs the Makefile's sam build target for function on the host architecture, as
// `sam build` would for arm64, and returns the bootstrap.
func build(t *testing.T, function string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", root, "build-"+function, "ARTIFACTS_DIR="+dir, "LAMBDA_ARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-%s: %v\n%s", function, err, out)
	}
	bin := filepath.Join(dir, "bootstrap")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Function names survive -s -w (the runtime needs them for tracebacks): the production tag
	// must have left the local provider's fault injection out.
	for _, testOnly := range []string{"injected fault", "payment.Fault.hold", "payment.(*Local).SetFault"} {
		if bytes.Contains(b, []byte(testOnly)) {
			t.Errorf("%s contains %q: test-only code in a production binary", function, testOnly)
		}
	}
	return bin
}

func event(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev, err := lambdaevent.Load(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// orderEvent is events/order-get.json for id.
func orderEvent(t *testing.T, id string) events.APIGatewayV2HTTPRequest {
	ev := event(t, "order-get.json")
	ev.RawPath, ev.RequestContext.HTTP.Path = "/orders/"+id, "/orders/"+id
	ev.PathParameters = map[string]string{"id": id}
	return ev
}

type order struct {
	OrderID         string `json:"order_id"`
	Status          string `json:"status"`
	PaymentIntentID string `json:"payment_intent_id"`
}

func decode(t *testing.T, res events.APIGatewayV2HTTPResponse) order {
	t.Helper()
	var o order
	if err := json.Unmarshal([]byte(res.Body), &o); err != nil || o.OrderID == "" {
		t.Fatalf("answer %d %s: no order (%v)", res.StatusCode, res.Body, err)
	}
	return o
}

// sampleCatalog creates a fresh catalog table holding the sample catalog, as cmd/catalog loads
// a deployment's table, and returns its name.
func sampleCatalog(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	table := testenv.Table(t, client, catalog.Table("rie-catalog"))
	if _, err := catalog.Load(t.Context(), catalog.NewDynamoStore(client, table), catalog.Sample()); err != nil {
		t.Fatalf("load the sample catalog: %v", err)
	}
	return table
}

func TestBootstrapsUnderTheLambdaEmulator(t *testing.T) {
	testenv.RIEBin(t)
	client := testenv.DynamoClient(t)
	secret := webhook.NewSecret()
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		config.EnvDynamoDBEndpoint + "=" + testenv.DynamoEndpoint(t),
		config.EnvIdempotencyTable + "=" + testenv.Table(t, client, idem.Table("rie-idem")),
		config.EnvOrdersTable + "=" + testenv.Table(t, client, orders.Table("rie-orders")),
		config.EnvCatalogTable + "=" + sampleCatalog(t, client),
		config.EnvLogLevel + "=info",
	}
	checkoutBin, webhookBin := build(t, "CheckoutFunction"), build(t, "WebhookFunction")
	checkout := testenv.StartRIE(t, checkoutBin, append(env, config.EnvPaymentProvider+"=local"))
	hooks := testenv.StartRIE(t, webhookBin, append(env, config.EnvStripeWebhookSecret+"="+secret))

	first := checkout.HTTP(t, event(t, "checkout.json"))
	paid := decode(t, first)
	if first.StatusCode != 201 || paid.Status != "paid" {
		t.Fatalf("checkout: %d %s, want 201 paid", first.StatusCode, first.Body)
	}
	t.Run("the same checkout again is replayed byte for byte", func(t *testing.T) {
		again := checkout.HTTP(t, event(t, "checkout.json"))
		if again.StatusCode != 201 || again.Body != first.Body || again.Headers["Idempotent-Replayed"] != "true" {
			t.Fatalf("replay: %d %v %s", again.StatusCode, again.Headers, again.Body)
		}
	})
	t.Run("the order is read back", func(t *testing.T) {
		res := checkout.HTTP(t, orderEvent(t, paid.OrderID))
		if o := decode(t, res); res.StatusCode != 200 || o.OrderID != paid.OrderID || o.Status != "paid" {
			t.Fatalf("order read: %d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("a freshly signed webhook pays a pending order", func(t *testing.T) {
		ev := event(t, "checkout.json")
		ev.Headers["idempotency-key"] = "rie-pending-1"
		lambdaevent.SetBody(&ev, []byte(`{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur"}`))
		res := checkout.HTTP(t, ev)
		pending := decode(t, res)
		if res.StatusCode != 201 || pending.Status != "pending" {
			t.Fatalf("checkout without a card: %d %s, want 201 pending", res.StatusCode, res.Body)
		}
		signed, err := lambdaevent.SignStripe(event(t, "webhook-stripe.json"), secret, time.Now(), pending.OrderID, pending.PaymentIntentID, "evt_rie_1")
		if err != nil {
			t.Fatal(err)
		}
		if res := hooks.HTTP(t, signed); res.StatusCode != 200 || !strings.Contains(res.Body, `"applied":true`) {
			t.Fatalf("webhook: %d %s, want 200 applied", res.StatusCode, res.Body)
		}
		if res := checkout.HTTP(t, orderEvent(t, pending.OrderID)); decode(t, res).Status != "paid" {
			t.Fatalf("after the webhook: %s, want paid", res.Body)
		}
	})
	t.Run("the committed webhook event's placeholder signature is refused", func(t *testing.T) {
		res := hooks.HTTP(t, event(t, "webhook-stripe.json"))
		if res.StatusCode != 400 || !strings.Contains(res.Body, "webhook-signature-invalid") {
			t.Fatalf("got %d %s", res.StatusCode, res.Body)
		}
	})
}

// Fail closed, under the emulator: a checkout bootstrap given no payment provider never serves.
func TestCheckoutWithoutAProviderFailsItsInitUnderTheEmulator(t *testing.T) {
	testenv.RIEBin(t)
	bin := build(t, "CheckoutFunction")
	e := testenv.StartRIE(t, bin, []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		config.EnvDynamoDBEndpoint + "=" + testenv.DynamoEndpoint(t)})
	raw := e.Invoke(t, event(t, "checkout.json"))
	if bytes.Contains(raw, []byte(`"statusCode"`)) {
		t.Fatalf("a checkout without a provider answered: %s", raw)
	}
	logs := e.Logs()
	if !strings.Contains(logs, "checkout function cannot start") || !strings.Contains(logs, config.EnvStripeSecretKeyARN) ||
		!strings.Contains(logs, config.EnvPaymentProvider) {
		t.Fatalf("invocation answered %s; logs do not name the missing setting:\n%s", raw, logs)
	}
}
