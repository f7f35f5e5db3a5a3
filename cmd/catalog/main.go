// Command catalog loads a catalog file (internal/catalog's format) into a deployed catalog
// table, idempotently:
//
//	go run ./cmd/catalog -file catalog.json -table NAME [-endpoint URL] [-region R] [-create]
//
// Credentials and Region come from the AWS SDK's default chain (environment, profile, SSO,
// instance role); -endpoint (or DYNAMODB_ENDPOINT, AWS_ENDPOINT_URL_DYNAMODB) points it at
// DynamoDB Local, where -create makes the table first. It prints what the load did as JSON lines
// and exits 1 with every validation error of a bad file, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/ddb/sdkclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("file", "", "catalog file (JSON) to load")
	table := fs.String("table", "", "catalog table name (the stack's CatalogTableName output)")
	endpoint := fs.String("endpoint", ddb.EndpointFromEnv(), "DynamoDB endpoint (DynamoDB Local); empty for AWS")
	region := fs.String("region", "", "AWS Region; empty for the SDK's default chain")
	create := fs.Bool("create", false, "create the table when it is missing (DynamoDB Local)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" || *table == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "catalog: -file and -table are required")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	data, err := os.ReadFile(*path)
	if err != nil {
		log.Error("read the catalog file", "file", *path, "err", err)
		return 1
	}
	products, err := catalog.Parse(data)
	if err != nil {
		errlog := slog.New(slog.NewJSONHandler(stderr, nil))
		var many interface{ Unwrap() []error }
		if !errors.As(err, &many) {
			errlog.Error("invalid catalog file", "file", *path, "err", err)
			return 1
		}
		for _, e := range many.Unwrap() {
			errlog.Error("invalid catalog file", "file", *path, "err", e)
		}
		return 1
	}
	var opts []func(*dynamodb.Options)
	if *region != "" {
		opts = append(opts, func(o *dynamodb.Options) { o.Region = *region })
	}
	client, err := sdkclient.New(ctx, *endpoint, opts...)
	if err != nil {
		log.Error("DynamoDB client", "err", err)
		return 1
	}
	if *create {
		if err := ddb.Ensure(ctx, client, catalog.Table(*table)); err != nil {
			log.Error("create the table", "table", *table, "err", err)
			return 1
		}
	}
	r, err := catalog.Load(ctx, catalog.NewDynamoStore(client, *table), products)
	for _, c := range r.Changes {
		log.Info("changed", "sku", c.SKU, "created", c.Created, "product", c.Product, "units", c.Units,
			"shards", c.Shards, "available", c.Available)
	}
	if err != nil {
		log.Error("load stopped", "table", *table, "err", err)
		return 1
	}
	for _, sku := range r.Absent {
		log.Info("absent from the file, left alone", "sku", sku)
	}
	log.Info("loaded", "file", *path, "table", *table, "products", len(products), "changed", r.Changed(),
		"unchanged", len(r.Unchanged), "absent", len(r.Absent))
	return 0
}
