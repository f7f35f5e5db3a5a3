package samtemplate

import "github.com/checkout-idem/checkout/internal/config"

// function is what the code of one Lambda function needs from the template, and all it may
// get. One row per function: a new function (a scheduled reconciler, say) is one more row, and
// every check below (environment, secrets, policies, alarms, build target) then covers it.
type function struct {
	name string
	// routes are the HTTP API route keys it serves (none for a scheduled function).
	routes []string
	// env are the variables it reads besides sharedEnv: constants of internal/config.
	env []string
	// secrets maps each _ARN variable it reads to the template parameter naming the secret;
	// it may read exactly these secrets.
	secrets map[string]string
	// uses maps each table (logical id, or "<Table>/index/<name>" for an index) to the
	// DynamoDB actions its code performs there: the grant must be exactly this. Transactions
	// count as their items' actions (Put, Update, Delete, ConditionCheck), which is how
	// DynamoDB authorizes them.
	uses map[string][]string
}

// sharedEnv is what every function reads (Globals.Function.Environment).
var sharedEnv = []string{
	config.EnvIdempotencyTable, config.EnvOrdersTable, config.EnvIdempotencyTTL, config.EnvIdempotencyWait,
	config.EnvSecretsMaxAge, config.EnvDynamoDBEndpoint, config.EnvLogLevel,
}

// idempotencyRecords is what the engine (internal/idem) does on its table: claim (PutItem,
// conditional, also inside the checkout's TransactWriteItems), read (GetItem), complete
// (UpdateItem), release (DeleteItem).
var idempotencyRecords = []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}

var functionsTable = []function{
	{
		name:    "CheckoutFunction",
		routes:  []string{"POST /checkout", "GET /orders/{id}"},
		env:     []string{config.EnvPaymentProvider, config.EnvStripeSecretKey, config.EnvStripeSecretKeyARN, config.EnvStripeAPIBase},
		secrets: map[string]string{config.EnvStripeSecretKeyARN: "StripeSecretKeyArn"},
		uses: map[string][]string{
			"IdempotencyTable": idempotencyRecords,
			// GET /orders/{id} reads; the completion transaction puts the order; the claim
			// transaction checks that the key's order does not exist yet.
			"OrdersTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"},
		},
	},
	{
		name:   "WebhookFunction",
		routes: []string{"POST /webhooks"},
		env: []string{config.EnvStripeWebhookSecret, config.EnvStandardWebhookSecret,
			config.EnvStripeWebhookSecretARN, config.EnvStandardWebhookSecretARN, config.EnvWebhookTolerance},
		secrets: map[string]string{
			config.EnvStripeWebhookSecretARN:   "StripeWebhookSecretArn",
			config.EnvStandardWebhookSecretARN: "StandardWebhookSecretArn",
		},
		uses: map[string][]string{
			"IdempotencyTable": idempotencyRecords,
			// Reads the order, then advances its status with a conditional UpdateItem.
			"OrdersTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
		},
	},
}

// secretEnv are the variables that would hold a secret value: declared empty in the template
// (so that sam local may set them through env.json), never set in AWS.
var secretEnv = []string{config.EnvStripeSecretKey, config.EnvStripeWebhookSecret, config.EnvStandardWebhookSecret}
