package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/secrets"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// environment sets what the template gives the function, on fresh tables, with no provider.
func environment(t *testing.T) {
	t.Helper()
	client := testenv.DynamoClient(t)
	t.Setenv(config.EnvDynamoDBEndpoint, testenv.DynamoEndpoint(t))
	t.Setenv(config.EnvIdempotencyTable, testenv.Table(t, client, idem.Table("fn-prov-idem")))
	t.Setenv(config.EnvOrdersTable, testenv.Table(t, client, orders.Table("fn-prov-orders")))
	t.Setenv(config.EnvCatalogTable, sampleCatalog(t, client, "fn-prov-catalog"))
	for _, k := range []string{config.EnvPaymentProvider, config.EnvStripeSecretKey, config.EnvStripeSecretKeyARN, config.EnvStripeAPIBase} {
		t.Setenv(k, "")
	}
}

func TestInitFailsClosedWithoutAProvider(t *testing.T) {
	for _, provider := range []string{"", config.ProviderStripe} {
		t.Run("PAYMENT_PROVIDER="+provider+" and no key: the init fails naming the settings", func(t *testing.T) {
			environment(t)
			t.Setenv(config.EnvPaymentProvider, provider)
			h, err := app.CheckoutHandler(t.Context(), &bytes.Buffer{})
			if h != nil || !errors.Is(err, app.ErrNoProvider) {
				t.Fatalf("CheckoutHandler = %v, %v; want app.ErrNoProvider", h, err)
			}
			for _, name := range []string{config.EnvStripeSecretKeyARN, config.EnvPaymentProvider} {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
	t.Run("an unknown PAYMENT_PROVIDER is refused", func(t *testing.T) {
		environment(t)
		t.Setenv(config.EnvPaymentProvider, "none")
		if _, err := app.CheckoutHandler(t.Context(), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), config.EnvPaymentProvider) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("PAYMENT_PROVIDER=local starts and says so", func(t *testing.T) {
		environment(t)
		t.Setenv(config.EnvPaymentProvider, config.ProviderLocal)
		var logs bytes.Buffer
		if _, err := app.CheckoutHandler(t.Context(), &logs); err != nil || !strings.Contains(logs.String(), "nothing is charged") {
			t.Fatalf("err %v, logs %s", err, logs.String())
		}
	})
}

// As deployed: the Stripe key comes from Secrets Manager (its stand-in) by ARN; a checkout
// reaches Stripe (stripe-mock) with it.
func TestStripeKeyFromSecretsManager(t *testing.T) {
	environment(t)
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:checkout/stripe-key-AbCdEf"
	sm := testenv.NewSecretsManager(t)
	sm.Set(arn, "sk_test_fromsecretsmanager123")
	t.Setenv(secrets.EnvEndpoint, sm.URL)
	t.Setenv(config.EnvStripeSecretKeyARN, arn)
	t.Setenv(config.EnvStripeAPIBase, testenv.StripeMock(t))
	var logs bytes.Buffer
	h, err := app.CheckoutHandler(t.Context(), &logs)
	if err != nil {
		t.Fatal(err)
	}
	if sm.Reads(arn) != 1 || strings.Contains(logs.String(), "sk_test_fromsecretsmanager123") {
		t.Fatalf("reads %d; logs %s", sm.Reads(arn), logs.String())
	}
	invoke := invokerFor(t, h)
	resp := invoke(withKey(loadEvent(t, "checkout.json"), "sm-key-1"))
	if resp.StatusCode != 201 || !strings.Contains(resp.Body, `"payment_intent_id":"pi_`) {
		t.Fatalf("checkout with the key from Secrets Manager: %d %s", resp.StatusCode, resp.Body)
	}
	if sm.Reads(arn) != 1 {
		t.Errorf("reads after a checkout = %d, want 1 (cached)", sm.Reads(arn))
	}
}
