// Command checkoutfn is functions/checkout (app.CheckoutHandler, the payload 2.0 adapter) with
// the capacity middleware on its DynamoDB client, which writes each request's consumed capacity
// to standard error, as the Powertools peer's client does.
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
