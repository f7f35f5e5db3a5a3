// Package app builds what the Lambda functions and the local server share from the
// configuration: the logger, the stores and the payment provider. The functions' main packages
// and cmd/local only wire its result into handlers.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/awsenv"
	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/secrets"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// Deps are the dependencies of the handlers.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Idem     idem.Store
	Orders   orders.Store
	Catalog  catalog.Store
	Payments payment.Provider
	// DynamoDB is the client behind the stores; nil with the in-memory stores.
	DynamoDB *dynamodb.Client
	// Storage and Provider name what was chosen, for the start-up log line.
	Storage, Provider string
	// NoWebhookSecretHint, when set, is logged at info level instead of the error that a
	// deployment without a webhook secret gets: the local server's default run has none.
	NoWebhookSecretHint string
}

// Options choose between the deployed and the local set-up.
type Options struct {
	// Memory uses in-memory stores unless an endpoint (DynamoDB Local) is configured: the
	// embedded default of the local server. Lambda functions always use DynamoDB.
	Memory bool
	// EnsureTables creates missing tables with the template's schema (local server only; in
	// AWS the template owns them).
	EnsureTables bool
	// DynamoDBOptions are passed to the DynamoDB client (e.g. a request counter).
	DynamoDBOptions []func(*dynamodb.Options)
}

// Load builds the dependencies; it never logs a secret.
func Load(ctx context.Context, cfg config.Config, log io.Writer, opt Options) (*Deps, error) {
	d := &Deps{Config: cfg, Logger: NewLogger(log, cfg.LogLevel)}
	if opt.Memory && cfg.DynamoDBEndpoint == "" {
		units := stock.NewMemory()
		mem := catalog.NewMemoryStore(units)
		d.Idem, d.Orders, d.Catalog, d.Storage = idem.NewMemoryStore(), orders.NewMemoryStore().WithStock(units), mem, "memory"
		if err := d.loadCatalog(ctx, mem); err != nil {
			return nil, err
		}
	} else {
		client, err := ddb.NewLambdaClient(cfg.DynamoDBEndpoint, opt.DynamoDBOptions...)
		if err != nil {
			return nil, err
		}
		if opt.EnsureTables {
			for _, t := range []ddb.Table{idem.Table(cfg.IdempotencyTable), orders.Table(cfg.OrdersTable), catalog.Table(cfg.CatalogTable)} {
				if err := ddb.Ensure(ctx, client, t); err != nil {
					return nil, err
				}
			}
		}
		d.useDynamoDB(client)
		if opt.EnsureTables { // the local server on DynamoDB Local: the catalog it serves
			if err := d.loadCatalog(ctx, d.Catalog.(catalog.Loader)); err != nil {
				return nil, err
			}
		}
	}
	p, name, err := NewPayments(cfg, d.Logger)
	if err != nil {
		return nil, err
	}
	d.Payments, d.Provider = p, name
	return d, nil
}

// EnvCatalogFile names a catalog file the local server loads instead of the embedded sample.
const EnvCatalogFile = "CATALOG_FILE"

// loadCatalog loads CATALOG_FILE, or the embedded sample, into store (idempotently).
func (d *Deps) loadCatalog(ctx context.Context, store catalog.Loader) error {
	products := catalog.Sample()
	if path := os.Getenv(EnvCatalogFile); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvCatalogFile, err)
		}
		if products, err = catalog.Parse(data); err != nil {
			return fmt.Errorf("%s %s: %w", EnvCatalogFile, path, err)
		}
	}
	r, err := catalog.Load(ctx, store, products)
	if err != nil {
		return err
	}
	d.Logger.Info("catalog loaded", "products", len(products), "changed", r.Changed())
	return nil
}

// LoadLambda builds the dependencies of a Lambda function: DynamoDB stores on a client built
// from the Lambda environment (ddb.NewLambdaClient), and no payment provider (LambdaPayments
// adds one where needed, so the webhook function does not link stripe-go). Under one vCPU's
// memory it runs Go on one P (awsenv.FitProcs).
func LoadLambda(cfg config.Config, log io.Writer, optFns ...func(*dynamodb.Options)) (*Deps, error) {
	d := &Deps{Config: cfg, Logger: NewLogger(log, cfg.LogLevel), Provider: "none"}
	d.Logger.Info("runtime", "gomaxprocs", awsenv.FitProcs(), "memory_mb", os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	client, err := ddb.NewLambdaClient(cfg.DynamoDBEndpoint, optFns...)
	if err != nil {
		return nil, err
	}
	d.useDynamoDB(client)
	return d, nil
}

// LoadLambdaPaying is LoadLambda for a function that charges or asks the payment provider
// (checkout, reconciler): with the provider LambdaPayments chooses, failing closed, its Stripe
// key read from Secrets Manager through the Lambda's credentials.
func LoadLambdaPaying(ctx context.Context, cfg config.Config, log io.Writer, optFns ...func(*dynamodb.Options)) (*Deps, error) {
	d, err := LoadLambda(cfg, log, optFns...)
	if err != nil {
		return nil, err
	}
	if d.Payments, d.Provider, err = LambdaPayments(ctx, cfg, d.Logger, secrets.NewLambdaClient()); err != nil {
		return nil, err
	}
	return d, nil
}

// Exit logs why the Lambda function name cannot start and exits with status 1, which fails its
// init: the platform reports it, and no request is served half-configured.
func Exit(name string, err error) {
	NewLogger(os.Stdout, "error").Error(name+" function cannot start", "error", err.Error())
	os.Exit(1)
}

// useDynamoDB puts the stores on client, on the configured tables.
func (d *Deps) useDynamoDB(client *dynamodb.Client) {
	d.DynamoDB = client
	d.Idem = idem.NewDynamoStore(client, d.Config.IdempotencyTable)
	d.Orders = orders.NewDynamoStore(client, d.Config.OrdersTable).WithStock(d.Config.CatalogTable)
	d.Catalog = catalog.NewDynamoStore(client, d.Config.CatalogTable)
	d.Storage = "dynamodb"
	if d.Config.DynamoDBEndpoint != "" {
		d.Storage += " at " + d.Config.DynamoDBEndpoint
	}
}

// NewPayments returns the payment provider the configuration selects, and its name: the local
// provider when PAYMENT_PROVIDER=local, or when it is empty and STRIPE_SECRET_KEY is too (the
// local server's default); else Stripe with STRIPE_SECRET_KEY (at STRIPE_API_BASE if set).
// Lambda functions use LambdaPayments, which never falls back to the local provider.
func NewPayments(cfg config.Config, log *slog.Logger) (payment.Provider, string, error) {
	switch {
	case cfg.PaymentProvider == config.ProviderLocal:
		return payment.NewLocal(), "local", nil
	case cfg.StripeSecretKey == "" && cfg.PaymentProvider == config.ProviderStripe:
		return nil, "", fmt.Errorf("%w: %s=%s needs %s", ErrNoProvider, config.EnvPaymentProvider, config.ProviderStripe, config.EnvStripeSecretKey)
	case cfg.StripeSecretKey == "":
		return payment.NewLocal(), "local", nil
	}
	p, err := payment.NewStripe(cfg.StripeSecretKey, cfg.StripeAPIBase, payment.WithLogger(log))
	if err != nil {
		return nil, "", fmt.Errorf("app: %w", err)
	}
	name := "stripe"
	if cfg.StripeAPIBase != "" {
		name += " at " + cfg.StripeAPIBase
	}
	return p, name, nil
}

// NewLogger returns the JSON logger every component writes to, at level (debug, info, warn,
// error; unknown values mean info).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Verifiers returns the webhook verifiers configured by STRIPE_WEBHOOK_SECRET and
// STANDARD_WEBHOOK_SECRET; a scheme without secrets is nil (its deliveries answer 400).
func Verifiers(cfg config.Config) (stripe, standard webhook.Verifier, err error) {
	if len(cfg.StripeWebhookSecrets) > 0 {
		v, err := webhook.NewStripeVerifier(cfg.StripeWebhookSecrets, cfg.WebhookTolerance)
		if err != nil {
			return nil, nil, fmt.Errorf("app: %s: %w", config.EnvStripeWebhookSecret, err)
		}
		stripe = v
	}
	if len(cfg.StandardWebhookSecrets) > 0 {
		v, err := webhook.NewStandardVerifier(cfg.StandardWebhookSecrets, cfg.WebhookTolerance)
		if err != nil {
			return nil, nil, fmt.Errorf("app: %s: %w", config.EnvStandardWebhookSecret, err)
		}
		standard = v
	}
	return stripe, standard, nil
}
