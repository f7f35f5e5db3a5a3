// Command checkoutfn is functions/checkout with one addition, for make bench: its DynamoDB
// client carries the capacity middleware (internal/ddb/capacity), which asks DynamoDB for the
// consumed capacity of every request and writes one line per request to standard error. The
// wiring is the function's own (app.CheckoutHandler, the payload 2.0 adapter), so it runs the
// checkout as deployed; the Powertools peer carries the same middleware on its client.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/ddb/capacity"
)

func main() {
	h, err := app.CheckoutHandler(context.Background(), os.Stdout, capacity.Option(capacity.Lines(os.Stderr)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkoutfn:", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
