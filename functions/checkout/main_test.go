package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// invoker is the real Lambda handler function, on fresh tables of DynamoDB Local.
type invoker func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse

func newInvoker(t *testing.T) invoker {
	t.Helper()
	client := testenv.DynamoClient(t)
	t.Setenv("DYNAMODB_ENDPOINT", testenv.DynamoEndpoint(t))
	t.Setenv("IDEMPOTENCY_TABLE", testenv.Table(t, client, idem.Table("fn-idem")))
	t.Setenv("ORDERS_TABLE", testenv.Table(t, client, orders.Table("fn-orders")))
	t.Setenv("CATALOG_TABLE", sampleCatalog(t, client, "fn-catalog"))
	t.Setenv("STRIPE_SECRET_KEY", "")
	t.Setenv("STRIPE_SECRET_KEY_ARN", "")
	t.Setenv("PAYMENT_PROVIDER", "local") // chosen explicitly, as the template's PaymentProvider=local does
	h, err := app.CheckoutHandler(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return invokerFor(t, h)
}

// sampleCatalog creates a fresh catalog table and loads the sample catalog into it, as
// cmd/catalog does before a deployment takes orders; it returns the table's name.
func sampleCatalog(t *testing.T, client *dynamodb.Client, name string) string {
	t.Helper()
	table := testenv.Table(t, client, catalog.Table(name))
	if _, err := catalog.Load(t.Context(), catalog.NewDynamoStore(client, table), catalog.Sample()); err != nil {
		t.Fatalf("load the sample catalog into %s: %v", table, err)
	}
	return table
}

// invokerFor calls h through the real Lambda adapter.
func invokerFor(t *testing.T, h http.Handler) invoker {
	proxy := httpadapter.NewV2(h).ProxyWithContext
	return func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		// As in Lambda: a deadline (the remaining time) and the invocation's context.
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: ev.RequestContext.RequestID})
		resp, err := proxy(ctx, ev)
		if err != nil {
			t.Fatalf("proxy: %v", err)
		}
		return resp
	}
}

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func withKey(ev events.APIGatewayV2HTTPRequest, key string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	for k, v := range ev.Headers {
		if !strings.EqualFold(k, "idempotency-key") {
			h[k] = v
		}
	}
	h["idempotency-key"] = key
	ev.Headers = h
	return ev
}

func TestLambdaEvents(t *testing.T) {
	invoke := newInvoker(t)
	for _, name := range []string{"checkout.json", "checkout-mixed-case.json", "checkout-quoted-key.json", "checkout-jwt.json"} {
		t.Run(name+" creates one order and replays it", func(t *testing.T) {
			ev := loadEvent(t, name)
			first, second := invoke(ev), invoke(ev)
			if first.StatusCode != 201 || second.StatusCode != 201 || first.Body != second.Body {
				t.Fatalf("first %d %s, second %d %s", first.StatusCode, first.Body, second.StatusCode, second.Body)
			}
			if second.Headers["Idempotent-Replayed"] != "true" || first.Headers["Idempotent-Replayed"] != "" {
				t.Fatalf("replay headers: first %v, second %v", first.Headers, second.Headers)
			}
			var order struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal([]byte(first.Body), &order); err != nil {
				t.Fatal(err)
			}
			get := loadEvent(t, "order-get.json")
			get.RawPath, get.RequestContext.HTTP.Path = "/orders/"+order.OrderID, "/orders/"+order.OrderID
			get.PathParameters = map[string]string{"id": order.OrderID}
			get.RequestContext.Authorizer = ev.RequestContext.Authorizer // the same caller
			resp := invoke(get)
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"paid"`) {
				t.Fatalf("GET order = %d %s", resp.StatusCode, resp.Body)
			}
			// The e-mail is personal data: never shown to a caller without an identity.
			if ev.RequestContext.Authorizer == nil && strings.Contains(resp.Body, "customer_email") {
				t.Fatalf("GET order without a caller identity shows customer_email: %s", resp.Body)
			}
			if ev.RequestContext.Authorizer != nil {
				get.RequestContext.Authorizer = nil // anyone else: the same 404 as an unknown order
				if resp := invoke(get); resp.StatusCode != 404 {
					t.Fatalf("GET another caller's order = %d %s, want 404", resp.StatusCode, resp.Body)
				}
			}
		})
	}
	t.Run("a quoted key and its bare form are one key", func(t *testing.T) {
		quoted := invoke(loadEvent(t, "checkout-quoted-key.json"))
		bare := invoke(withKey(loadEvent(t, "checkout-quoted-key.json"), "order-42"))
		if bare.Body != quoted.Body || bare.Headers["Idempotent-Replayed"] != "true" {
			t.Fatalf("bare %s vs quoted %s", bare.Body, quoted.Body)
		}
	})
	t.Run("the same key under a JWT principal is another caller's key", func(t *testing.T) {
		anon := invoke(withKey(loadEvent(t, "checkout.json"), "shared-key"))
		jwt := invoke(withKey(loadEvent(t, "checkout-jwt.json"), "shared-key"))
		if anon.StatusCode != 201 || jwt.StatusCode != 201 || jwt.Headers["Idempotent-Replayed"] != "" || anon.Body == jwt.Body {
			t.Fatalf("anonymous %s, jwt %d %s %v", anon.Body, jwt.StatusCode, jwt.Body, jwt.Headers)
		}
	})
	t.Run("a quoted key containing commas survives the adapter's header splitting", func(t *testing.T) {
		ev := withKey(loadEvent(t, "checkout.json"), `"cart 9,attempt 1,tab 2"`)
		first, second := invoke(ev), invoke(ev)
		if first.StatusCode != 201 || second.Body != first.Body || second.Headers["Idempotent-Replayed"] != "true" {
			t.Fatalf("first %d %s, second %s %v", first.StatusCode, first.Body, second.Body, second.Headers)
		}
		// Spaces next to the commas are dropped, as the adapter drops them: the same key.
		spaced := invoke(withKey(loadEvent(t, "checkout.json"), `"cart 9, attempt 1, tab 2"`))
		if spaced.Body != first.Body || spaced.Headers["Idempotent-Replayed"] != "true" {
			t.Fatalf("spaced form: %d %s", spaced.StatusCode, spaced.Body)
		}
		other := invoke(withKey(loadEvent(t, "checkout.json"), `"cart 9"`))
		if other.Body == first.Body {
			t.Fatal("the key was cut at its first comma")
		}
	})
	t.Run("a bare key with a comma, or two keys, answers 400 key-invalid", func(t *testing.T) {
		resp := invoke(withKey(loadEvent(t, "checkout.json"), "cart 9, attempt 1"))
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, "/problems/idempotency-key-invalid") || !strings.Contains(resp.Body, "more than one key") {
			t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("a base64 body that is not JSON answers a 400 problem", func(t *testing.T) {
		ev := withKey(loadEvent(t, "checkout.json"), "bad-body")
		ev.Body = base64.StdEncoding.EncodeToString([]byte(`{"amount":"12"}`))
		resp := invoke(ev)
		if resp.StatusCode != 400 || resp.Headers["Content-Type"] != "application/problem+json" {
			t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
	})
	t.Run("an unknown order answers a 404 problem", func(t *testing.T) {
		resp := invoke(loadEvent(t, "order-get.json"))
		if resp.StatusCode != 404 || resp.Headers["Content-Type"] != "application/problem+json" {
			t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
	})
}
