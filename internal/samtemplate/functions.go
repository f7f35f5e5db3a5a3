package samtemplate

import (
	"slices"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/orders"
)

// PublicRoutes are the routes never behind the JWT authorizer: webhooks (authenticated by their
// signature) and the catalog (public, cacheable).
var PublicRoutes = []string{"POST /webhooks", "GET /products", "GET /products/{sku}"}

// Function is what the code of one Lambda function needs from template.yaml, and all it may
// get. One row of Functions per function: a new function (a scheduled reconciler, say) is one
// more row, and every check of this package's tests (environment, secrets, policies, alarms,
// build target) then covers it. The functions' own tests record the DynamoDB actions their
// handlers perform and check them against Uses (testenv.DynamoActions).
type Function struct {
	Name string
	// Routes are the HTTP API route keys it serves (none for a scheduled function).
	Routes []string
	// Env are the variables it reads besides SharedEnv: constants of internal/config.
	Env []string
	// Secrets maps each _ARN variable it reads to the template parameter naming the secret;
	// it may read exactly these secrets.
	Secrets map[string]string
	// Uses maps each table (logical id, or "<Table>/index/<name>" for an index) to the
	// DynamoDB actions its code performs there: the grant must be exactly this. Transactions
	// count as their items' actions (Put, Update, Delete, ConditionCheck), which is how
	// DynamoDB authorizes them.
	Uses map[string][]string
}

// Lookup returns the row of the function name (the zero Function if there is none).
func Lookup(name string) Function {
	for _, f := range Functions {
		if f.Name == name {
			return f
		}
	}
	return Function{}
}

// TableEnv maps each table's logical id to the variable that names it in the functions.
var TableEnv = map[string]string{
	"IdempotencyTable": config.EnvIdempotencyTable, "OrdersTable": config.EnvOrdersTable, "CatalogTable": config.EnvCatalogTable,
}

// SharedEnv is what every function reads (Globals.Function.Environment).
var SharedEnv = []string{
	config.EnvIdempotencyTable, config.EnvOrdersTable, config.EnvCatalogTable, config.EnvIdempotencyTTL, config.EnvIdempotencyWait,
	config.EnvSecretsMaxAge, config.EnvDynamoDBEndpoint, config.EnvLogLevel,
}

// idempotencyRecords is what the engine (internal/idem) does on its table: claim (PutItem,
// conditional, also inside the checkout's TransactWriteItems), read (GetItem), complete
// (PutItem of the completed record), release (DeleteItem).
var idempotencyRecords = []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"}

// catalogStock is what every function does on the catalog table (internal/catalog, internal/stock):
// read products and their shards (GetItem, BatchGetItem), take and put back units (Update items
// of the orders' transactions) and check a shard inside one (ConditionCheckItem).
var catalogStock = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}

// Functions has one row per function of template.yaml.
var Functions = []Function{
	{
		Name:    "CheckoutFunction",
		Routes:  []string{"POST /checkout", "GET /orders/{id}", "GET /products", "GET /products/{sku}"},
		Env:     []string{config.EnvPaymentProvider, config.EnvStripeSecretKey, config.EnvStripeSecretKeyARN, config.EnvStripeAPIBase},
		Secrets: map[string]string{config.EnvStripeSecretKeyARN: "StripeSecretKeyArn"},
		Uses: map[string][]string{
			"IdempotencyTable": idempotencyRecords,
			// The reservation transaction writes a new order (created) with a Put, or retakes a
			// released one with an Update; the completion transaction settles it with an Update,
			// and a stored provider failure moves it to a new provider key (UpdateItem);
			// GET /orders/{id} and the expired-key path read it.
			"OrdersTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
			// The stock, and GET /products, which scans the catalog.
			"CatalogTable": append(slices.Clone(catalogStock), "dynamodb:Scan"),
		},
	},
	{
		Name:   "WebhookFunction",
		Routes: []string{"POST /webhooks"},
		Env: []string{config.EnvStripeWebhookSecret, config.EnvStandardWebhookSecret,
			config.EnvStripeWebhookSecretARN, config.EnvStandardWebhookSecretARN, config.EnvWebhookTolerance},
		Secrets: map[string]string{
			config.EnvStripeWebhookSecretARN:   "StripeWebhookSecretArn",
			config.EnvStandardWebhookSecretARN: "StandardWebhookSecretArn",
		},
		Uses: map[string][]string{
			"IdempotencyTable": idempotencyRecords,
			// Reads the order, then advances its status with a conditional UpdateItem.
			"OrdersTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
			// An order's status change takes or puts back its units.
			"CatalogTable": catalogStock,
		},
	}, {
		// Scheduled, no route: it asks the payment provider about stuck orders (so it reads the
		// Stripe key), queries the open orders' sparse index and settles orders with a
		// conditional UpdateItem, nothing else.
		Name: "ReconcilerFunction",
		Env: []string{config.EnvPaymentProvider, config.EnvStripeSecretKey, config.EnvStripeSecretKeyARN,
			config.EnvStripeAPIBase, config.EnvReconcileAfter, config.EnvReconcileLimit, config.EnvReconcileActionTimeout},
		Secrets: map[string]string{config.EnvStripeSecretKeyARN: "StripeSecretKeyArn"},
		Uses: map[string][]string{
			"OrdersTable/index/" + orders.OpenIndex: {"dynamodb:Query"},
			"OrdersTable":                           {"dynamodb:UpdateItem"},
			// Settling a stuck order releases its units.
			"CatalogTable": catalogStock,
		},
	},
}

// secretEnv are the variables that would hold a secret value: declared empty in the template
// (so that sam local may set them through env.json), never set in AWS.
var secretEnv = []string{config.EnvStripeSecretKey, config.EnvStripeWebhookSecret, config.EnvStandardWebhookSecret}
