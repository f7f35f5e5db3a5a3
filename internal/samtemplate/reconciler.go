package samtemplate

import (
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/orders"
)

// The scheduled reconciler: no route; it asks the payment provider about stuck orders (so it
// reads the Stripe key), queries the open orders' sparse index and settles orders with a
// conditional UpdateItem, nothing else.
func init() {
	Functions = append(Functions, Function{
		Name: "ReconcilerFunction",
		Env: []string{config.EnvPaymentProvider, config.EnvStripeSecretKey, config.EnvStripeSecretKeyARN,
			config.EnvStripeAPIBase, config.EnvReconcileAfter, config.EnvReconcileLimit},
		Secrets: map[string]string{config.EnvStripeSecretKeyARN: "StripeSecretKeyArn"},
		Uses: map[string][]string{
			"OrdersTable/index/" + orders.OpenIndex: {"dynamodb:Query"},
			"OrdersTable":                           {"dynamodb:UpdateItem"},
		},
	})
}
