// Command signwebhook writes a freshly signed copy of events/webhook-stripe.json for `sam local
// invoke WebhookFunction`: the committed event carries a placeholder signature (a real one
// would be stale after WEBHOOK_TOLERANCE and would name a secret), so it is always refused.
// The secret is the one env.json gives WebhookFunction, unless -secret says otherwise.
//
//	go run ./scripts/signwebhook [-order ord_...] [-out bin/events]   (make webhook-events)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/lambdaevent"
)

func main() {
	in := flag.String("in", "events/webhook-stripe.json", "the webhook event to sign")
	out := flag.String("out", "bin/events", "directory to write the signed event into")
	envFile := flag.String("env", "env.json", "sam local --env-vars file holding WebhookFunction's secret")
	secret := flag.String("secret", "", "Stripe webhook secret (default: env.json's WebhookFunction."+config.EnvStripeWebhookSecret+")")
	order := flag.String("order", "", "order id to put in the PaymentIntent's metadata (default: keep the event's)")
	flag.Parse()
	if err := run(*in, *out, *envFile, *secret, *order); err != nil {
		fmt.Fprintln(os.Stderr, "signwebhook:", err)
		os.Exit(1)
	}
}

func run(in, out, envFile, secret, order string) error {
	if secret == "" {
		b, err := os.ReadFile(envFile)
		if err != nil {
			return err
		}
		var env map[string]map[string]string
		if err := json.Unmarshal(b, &env); err != nil {
			return fmt.Errorf("%s: %w", envFile, err)
		}
		if secret = env["WebhookFunction"][config.EnvStripeWebhookSecret]; secret == "" {
			return fmt.Errorf("%s gives WebhookFunction no %s; pass -secret", envFile, config.EnvStripeWebhookSecret)
		}
	}
	ev, err := lambdaevent.Load(in)
	if err != nil {
		return err
	}
	now := time.Now()
	signed, err := lambdaevent.SignStripe(ev, secret, now, order, "", fmt.Sprintf("evt_local_%d", now.UnixNano()))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(signed, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(out, filepath.Base(in))
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s (signed at %s, valid for %s): sam local invoke WebhookFunction -e %s\n",
		path, now.UTC().Format(time.RFC3339), "WEBHOOK_TOLERANCE (5m)", path)
	return nil
}
