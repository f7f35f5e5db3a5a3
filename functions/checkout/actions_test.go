package main

import (
	"io"
	"testing"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/lambdaevent"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// The DynamoDB actions the handler performs on each path must all be granted by the template
// (samtemplate.Functions, which its test compares exactly with template.yaml).
func TestEveryDynamoDBActionIsGranted(t *testing.T) {
	environment(t)
	rec := &testenv.DynamoActions{}
	t.Setenv(config.EnvPaymentProvider, config.ProviderLocal)
	h, err := app.CheckoutHandler(t.Context(), io.Discard, rec.Option())
	if err != nil {
		t.Fatal(err)
	}
	invoke := invokerFor(t, h)
	first := invoke(withKey(loadEvent(t, "checkout.json"), "grants-1")) // claim, charge, complete
	_ = invoke(withKey(loadEvent(t, "checkout.json"), "grants-1"))      // replay
	declined := withKey(loadEvent(t, "checkout.json"), "grants-2")
	lambdaevent.SetBody(&declined, []byte(`{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur","payment_method":"pm_card_chargeDeclined"}`))
	if res := invoke(declined); res.StatusCode != 402 {
		t.Fatalf("decline: %d %s", res.StatusCode, res.Body)
	}
	if first.StatusCode != 201 {
		t.Fatalf("checkout: %d %s", first.StatusCode, first.Body)
	}
	_ = invoke(loadEvent(t, "order-get.json")) // an order read

	// A provider that cannot be reached: the claim is released (deleted).
	t.Setenv(config.EnvPaymentProvider, config.ProviderStripe)
	t.Setenv(config.EnvStripeSecretKey, "sk_test_unreachable123")
	t.Setenv(config.EnvStripeAPIBase, "http://127.0.0.1:1")
	down, err := app.CheckoutHandler(t.Context(), io.Discard, rec.Option())
	if err != nil {
		t.Fatal(err)
	}
	if res := invokerFor(t, down)(withKey(loadEvent(t, "checkout.json"), "grants-3")); res.StatusCode != 502 {
		t.Fatalf("provider down: %d %s", res.StatusCode, res.Body)
	}
	rec.CheckGranted(t, "CheckoutFunction", "dynamodb:DeleteItem")
}
