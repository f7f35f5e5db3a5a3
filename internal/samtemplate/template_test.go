package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
)

const (
	templatePath = "../../template.yaml"
	makefilePath = "../../Makefile"
	eventsGlob   = "../../events/*.json"
)

// functionEnv lists, explicitly, every variable the Lambda functions read: all of internal/config
// except config.EnvPort, which only the local server reads. A new constant in internal/config
// must be added here and to template.yaml.
var functionEnv = []string{
	config.EnvIdempotencyTable,
	config.EnvOrdersTable,
	config.EnvIdempotencyTTL,
	config.EnvIdempotencyWait,
	config.EnvDynamoDBEndpoint,
	config.EnvStripeSecretKey,
	config.EnvStripeAPIBase,
	config.EnvStripeWebhookSecret,
	config.EnvStandardWebhookSecret,
	config.EnvWebhookTolerance,
	config.EnvLogLevel,
	config.EnvReconcileAfter,
	config.EnvReconcileLimit,
}

// secretEnv are the variables that hold secrets: their value must be empty or a dynamic reference.
var secretEnv = []string{config.EnvStripeSecretKey, config.EnvStripeWebhookSecret, config.EnvStandardWebhookSecret}

// plainSecret matches what Stripe and Standard Webhooks secrets look like.
var plainSecret = regexp.MustCompile(`\b(sk|rk)_(live|test)_|\bwhsec_`)

// routes maps each HTTP API route key to the function that must serve it.
var routes = map[string]string{
	"POST /checkout":   "CheckoutFunction",
	"GET /orders/{id}": "CheckoutFunction",
	"POST /webhooks":   "WebhookFunction",
}

// allowedActions is the most each function may do on each table (logical id).
var allowedActions = map[string]map[string][]string{
	"CheckoutFunction": {
		"IdempotencyTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
		"OrdersTable":      {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"},
	},
	"WebhookFunction": {
		"IdempotencyTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
		"OrdersTable":      {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"},
	},
	// The reconciler queries the open orders' index and updates orders, nothing else.
	"ReconcilerFunction": {
		"OrdersTable/index/" + orders.OpenIndex: {"dynamodb:Query"},
		"OrdersTable":                           {"dynamodb:UpdateItem"},
	},
}

// scheduled lists the functions run by a schedule (ScheduleV2) rather than by HTTP API routes.
var scheduled = []string{"ReconcilerFunction"}

// open parses template.yaml with goformation. Intrinsic functions are not evaluated but
// rendered as readable strings ("!Ref X", "!GetAtt X.Arn", "!Sub ...", "!If [...]"), so the
// test can see what refers to what; a Ref to a parameter with a default yields the default,
// as a deployment without overrides would.
func open(t *testing.T) *cloudformation.Template {
	t.Helper()
	render := func(tag string) intrinsics.IntrinsicHandler {
		return func(_ string, input interface{}, _ interface{}) interface{} {
			return tag + " " + flat(input)
		}
	}
	tmpl, err := goformation.OpenWithOptions(templatePath, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(_ string, input interface{}, tpl interface{}) interface{} {
				if def := parameterDefault(tpl, input); def != nil {
					return def
				}
				return "!Ref " + flat(input)
			},
			"Fn::GetAtt": func(_ string, input interface{}, _ interface{}) interface{} {
				if parts, ok := input.([]interface{}); ok {
					return "!GetAtt " + flat(parts[0]) + "." + flat(parts[1])
				}
				return "!GetAtt " + flat(input)
			},
			"Fn::Sub":  render("!Sub"),
			"Fn::If":   render("!If"),
			"Fn::Join": render("!Join"),
		},
	})
	if err != nil {
		t.Fatalf("parse %s: %v", templatePath, err)
	}
	return tmpl
}

// parameterDefault returns the default of the template parameter named name, or nil.
func parameterDefault(tpl, name interface{}) interface{} {
	t, _ := tpl.(map[string]interface{})
	params, _ := t["Parameters"].(map[string]interface{})
	p, _ := params[fmt.Sprint(name)].(map[string]interface{})
	return p["Default"]
}

// flat renders an already processed intrinsic argument.
func flat(v interface{}) string {
	switch v := v.(type) {
	case string:
		return v
	case []interface{}:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = fmt.Sprintf("%q", flat(p))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func functions(t *testing.T, tmpl *cloudformation.Template) map[string]*serverless.Function {
	t.Helper()
	fns := tmpl.GetAllServerlessFunctionResources()
	var names []string
	for name := range fns {
		names = append(names, name)
	}
	sort.Strings(names)
	if want := []string{"CheckoutFunction", "ReconcilerFunction", "WebhookFunction"}; !slices.Equal(names, want) {
		t.Fatalf("functions = %v, want %v", names, want)
	}
	return fns
}

func table(t *testing.T, tmpl *cloudformation.Template, name string) *dynamodb.Table {
	t.Helper()
	tbl, err := tmpl.GetDynamoDBTableWithName(name)
	if err != nil {
		t.Fatalf("%s: %v (want an AWS::DynamoDB::Table)", name, err)
	}
	return tbl
}

func TestTemplateParsesAsServerlessTemplate(t *testing.T) {
	tmpl := open(t)
	if tmpl.Transform == nil || tmpl.Transform.String == nil || *tmpl.Transform.String != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %+v, want AWS::Serverless-2016-10-31", tmpl.Transform)
	}
}

func TestTablesMatchTheCode(t *testing.T) {
	tmpl := open(t)
	cases := []struct {
		name, logicalID, partitionKey, ttl string
		pitr                               bool
		indexes                            []ddb.Index
	}{
		{"the idempotency table is keyed by idem.PartitionKey and expires idem.TTLAttribute", "IdempotencyTable", idem.PartitionKey, idem.TTLAttribute, false, nil},
		{"the orders table is keyed by orders.PartitionKey, never expires, can be restored and has the open-orders index", "OrdersTable", orders.PartitionKey, "", true, orders.Table("").Indexes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := table(t, tmpl, c.logicalID)
			if tbl.BillingMode == nil || *tbl.BillingMode != "PAY_PER_REQUEST" {
				t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", deref(tbl.BillingMode))
			}
			if len(tbl.KeySchema) != 1 || tbl.KeySchema[0].AttributeName != c.partitionKey || tbl.KeySchema[0].KeyType != "HASH" {
				t.Errorf("KeySchema = %+v, want the single HASH key %q", tbl.KeySchema, c.partitionKey)
			}
			if len(tbl.AttributeDefinitions) != 1+2*len(c.indexes) || tbl.AttributeDefinitions[0].AttributeName != c.partitionKey || tbl.AttributeDefinitions[0].AttributeType != "S" {
				t.Errorf("AttributeDefinitions = %+v, want %q of type S, then the indexes' keys", tbl.AttributeDefinitions, c.partitionKey)
			}
			if len(tbl.GlobalSecondaryIndexes) != len(c.indexes) {
				t.Errorf("GlobalSecondaryIndexes = %+v, want %+v", tbl.GlobalSecondaryIndexes, c.indexes)
			}
			for i, ix := range c.indexes {
				if i >= len(tbl.GlobalSecondaryIndexes) {
					break
				}
				g := tbl.GlobalSecondaryIndexes[i]
				if g.IndexName != ix.Name || len(g.KeySchema) != 2 || g.KeySchema[0].AttributeName != ix.PartitionKey ||
					g.KeySchema[1].AttributeName != ix.SortKey || g.Projection == nil || deref(g.Projection.ProjectionType) != "ALL" {
					t.Errorf("index %+v, want %+v projecting ALL", g, ix)
				}
			}
			ttl := tbl.TimeToLiveSpecification
			switch {
			case c.ttl == "" && ttl != nil && ttl.Enabled:
				t.Errorf("TTL enabled on %s, want none", deref(ttl.AttributeName))
			case c.ttl != "" && (ttl == nil || !ttl.Enabled || deref(ttl.AttributeName) != c.ttl):
				t.Errorf("TTL attribute %q (enabled %v), want %q enabled", deref(deref(ttl).AttributeName), deref(ttl).Enabled, c.ttl)
			}
			pitr := tbl.PointInTimeRecoverySpecification != nil && tbl.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled != nil &&
				*tbl.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled
			if c.pitr && !pitr {
				t.Error("point-in-time recovery is off, want on")
			}
			if c.pitr && (tbl.AWSCloudFormationDeletionPolicy != "Retain" || tbl.AWSCloudFormationUpdateReplacePolicy != "Retain") {
				t.Errorf("DeletionPolicy %q, UpdateReplacePolicy %q: want Retain for both, orders record money taken",
					tbl.AWSCloudFormationDeletionPolicy, tbl.AWSCloudFormationUpdateReplacePolicy)
			}
		})
	}
}

// env merges Globals.Function's variables with the function's own, as SAM does.
func env(t *testing.T, tmpl *cloudformation.Template, fn *serverless.Function) map[string]string {
	t.Helper()
	vars := map[string]string{}
	if g, err := tmpl.GetServerlessGlobalFunction(); err == nil && g.Environment != nil {
		for k, v := range g.Environment.Variables {
			vars[k] = v
		}
	}
	if fn.Environment != nil {
		for k, v := range fn.Environment.Variables {
			vars[k] = v
		}
	}
	return vars
}

func TestEnvironmentMatchesConfig(t *testing.T) {
	tmpl := open(t)
	fns := functions(t, tmpl)
	declared := map[string]bool{}
	for name, fn := range fns {
		for k, v := range env(t, tmpl, fn) {
			declared[k] = true
			if !slices.Contains(functionEnv, k) {
				t.Errorf("%s declares %s, which is not a constant in internal/config that the functions read", name, k)
			}
			if slices.Contains(secretEnv, k) && (v != "" && !strings.Contains(v, "{{resolve:secretsmanager:") || plainSecret.MatchString(v)) {
				t.Errorf("%s: %s = %q, want empty or a Secrets Manager dynamic reference", name, k, v)
			}
		}
	}
	for _, k := range functionEnv {
		if !declared[k] {
			t.Errorf("no function declares %s (internal/config reads it)", k)
		}
	}
	if slices.Contains(functionEnv, config.EnvPort) {
		t.Error("config.EnvPort is for the local server only")
	}
	// sam local --env-vars only overrides declared variables: the endpoint must be declared, empty.
	for name, fn := range fns {
		if v, ok := env(t, tmpl, fn)[config.EnvDynamoDBEndpoint]; !ok || v != "" {
			t.Errorf("%s: %s = %q (declared %v), want declared and empty", name, config.EnvDynamoDBEndpoint, v, ok)
		}
	}
}

func TestEnvJSONOverridesOnlyDeclaredVariables(t *testing.T) {
	tmpl := open(t)
	fns := functions(t, tmpl)
	b, err := os.ReadFile("../../env.json")
	if err != nil {
		t.Fatal(err)
	}
	var overrides map[string]map[string]string
	if err := json.Unmarshal(b, &overrides); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	for name, vars := range overrides {
		fn, ok := fns[name]
		if !ok {
			t.Errorf("env.json names %s, which is not a function of the template", name)
			continue
		}
		declared := env(t, tmpl, fn)
		for k, v := range vars {
			if _, ok := declared[k]; !ok {
				t.Errorf("env.json sets %s.%s, which the template does not declare (sam local would ignore it)", name, k)
			}
			if plainSecret.MatchString(v) && !strings.Contains(v, "local") {
				t.Errorf("env.json: %s.%s looks like a real secret; env.json is committed", name, k)
			}
		}
		// sam local cannot resolve {{resolve:secretsmanager:...}}: env.json must replace them.
		for k, v := range declared {
			if _, ok := vars[k]; !ok && strings.Contains(v, "{{resolve:") {
				t.Errorf("env.json does not set %s.%s, so sam local would pass the unresolved reference %q", name, k, v)
			}
		}
		if vars[config.EnvDynamoDBEndpoint] == "" {
			t.Errorf("env.json does not point %s at DynamoDB Local (%s)", name, config.EnvDynamoDBEndpoint)
		}
	}
	for name := range fns {
		if _, ok := overrides[name]; !ok {
			t.Errorf("env.json has no entry for %s", name)
		}
	}
}

func TestFunctionsRunTheMakefileBootstrap(t *testing.T) {
	tmpl := open(t)
	g, err := tmpl.GetServerlessGlobalFunction()
	if err != nil {
		t.Fatalf("Globals.Function: %v", err)
	}
	makefile, err := os.ReadFile(makefilePath)
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range functions(t, tmpl) {
		t.Run(name, func(t *testing.T) {
			runtime, handler, timeout, arch := fn.Runtime, fn.Handler, fn.Timeout, fn.Architectures
			if runtime == nil {
				runtime = g.Runtime
			}
			if handler == nil {
				handler = g.Handler
			}
			if timeout == nil {
				timeout = g.Timeout
			}
			if arch == nil && g.Architectures != nil {
				arch = *g.Architectures
			}
			if deref(runtime) != "provided.al2023" {
				t.Errorf("Runtime = %q, want provided.al2023", deref(runtime))
			}
			if deref(handler) != "bootstrap" {
				t.Errorf("Handler = %q, want bootstrap", deref(handler))
			}
			if !slices.Equal(arch, []string{"arm64"}) {
				t.Errorf("Architectures = %v, want [arm64] (the Makefile builds GOARCH=arm64)", arch)
			}
			if timeout == nil || *timeout >= 30 {
				t.Errorf("Timeout = %d, want under the HTTP API's 30 s integration timeout", deref(timeout))
			}
			if fn.CodeUri == nil || deref(fn.CodeUri.String) != "." {
				t.Errorf("CodeUri = %+v, want . (the module root, so internal/ is built)", fn.CodeUri)
			}
			if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", bm)
			}
			target := regexp.MustCompile(`(?m)^build-` + regexp.QuoteMeta(name) + `:`)
			if !target.Match(makefile) {
				t.Errorf("the Makefile has no target build-%s", name)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	tmpl := open(t)
	got := map[string]string{}
	for name, fn := range functions(t, tmpl) {
		if slices.Contains(scheduled, name) {
			if len(fn.Events) != 1 {
				t.Errorf("%s: %d events, want one schedule", name, len(fn.Events))
			}
			for event, src := range fn.Events {
				if src.Type != "ScheduleV2" {
					t.Errorf("%s.%s: event type %s, want ScheduleV2", name, event, src.Type)
				}
			}
			continue
		}
		for event, src := range fn.Events {
			if src.Type != "HttpApi" {
				t.Errorf("%s.%s: event type %s, want HttpApi", name, event, src.Type)
				continue
			}
			if src.Properties == nil || src.Properties.HttpApiEvent == nil {
				t.Errorf("%s.%s: no HttpApi properties", name, event)
				continue
			}
			e := src.Properties.HttpApiEvent
			if deref(e.ApiId) != "!Ref CheckoutApi" {
				t.Errorf("%s.%s: ApiId = %q, want !Ref CheckoutApi", name, event, deref(e.ApiId))
			}
			if v := deref(e.PayloadFormatVersion); v != "" && v != "2.0" {
				t.Errorf("%s.%s: PayloadFormatVersion = %q, want 2.0", name, event, v)
			}
			key := strings.ToUpper(deref(e.Method)) + " " + deref(e.Path)
			if prev, dup := got[key]; dup {
				t.Errorf("route %s served by %s and %s", key, prev, name)
			}
			got[key] = name
		}
	}
	if !mapsEqual(got, routes) {
		t.Errorf("routes = %v, want %v", got, routes)
	}
	api, err := tmpl.GetServerlessHttpApiWithName("CheckoutApi")
	if err != nil {
		t.Fatalf("CheckoutApi: %v", err)
	}
	rs := api.DefaultRouteSettings
	if rs == nil || rs.ThrottlingBurstLimit == nil || rs.ThrottlingRateLimit == nil || *rs.ThrottlingBurstLimit <= 0 || *rs.ThrottlingRateLimit <= 0 {
		t.Errorf("DefaultRouteSettings = %+v, want throttling limits", rs)
	}
	cors := api.CorsConfiguration
	if cors == nil || cors.CorsConfigurationObject == nil {
		t.Fatalf("CorsConfiguration = %+v, want an object", cors)
	}
	for _, h := range []string{"content-type", "idempotency-key"} {
		if !slices.Contains(lower(cors.CorsConfigurationObject.AllowHeaders), h) {
			t.Errorf("CORS AllowHeaders = %v, want %s (the browser page sends it)", cors.CorsConfigurationObject.AllowHeaders, h)
		}
	}
	if !slices.Contains(cors.CorsConfigurationObject.AllowMethods, "POST") {
		t.Errorf("CORS AllowMethods = %v, want POST", cors.CorsConfigurationObject.AllowMethods)
	}
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tmpl := open(t)
	for name, fn := range functions(t, tmpl) {
		t.Run(name, func(t *testing.T) {
			if fn.Role != nil {
				t.Fatalf("Role = %q: let SAM create the role from Policies", *fn.Role)
			}
			if fn.Policies == nil || fn.Policies.IAMPolicyDocumentArray == nil {
				t.Fatalf("Policies = %+v, want a list of inline policy documents", fn.Policies)
			}
			granted := map[string][]string{} // table logical id -> actions
			for _, doc := range *fn.Policies.IAMPolicyDocumentArray {
				for _, s := range doc.Statement {
					st, ok := s.(map[string]interface{})
					if !ok {
						t.Fatalf("statement %v is not an object", s)
					}
					if st["Effect"] != "Allow" {
						continue
					}
					tables := strs(st["Resource"])
					if len(tables) == 0 {
						t.Errorf("statement %v has no Resource", st)
					}
					for _, r := range tables {
						tbl, ok := strings.CutPrefix(r, "!GetAtt ")
						tbl, isArn := strings.CutSuffix(tbl, ".Arn")
						if ix, isIndex := strings.CutPrefix(r, "!Sub ${OrdersTable.Arn}/index/"); isIndex {
							tbl, ok, isArn = "OrdersTable/index/"+ix, true, true
						}
						if !ok || !isArn || strings.Contains(r, "*") {
							t.Errorf("Resource %q, want !GetAtt <Table>.Arn (no wildcards)", r)
							continue
						}
						for _, a := range strs(st["Action"]) {
							if !slices.Contains(allowedActions[name][tbl], a) {
								t.Errorf("%s may %s on %s; allowed: %v", name, a, tbl, allowedActions[name][tbl])
							}
							granted[tbl] = append(granted[tbl], a)
						}
					}
				}
			}
			for tbl, actions := range allowedActions[name] {
				for _, a := range actions {
					if !slices.Contains(granted[tbl], a) {
						t.Errorf("%s lacks %s on %s", name, a, tbl)
					}
				}
			}
		})
	}
}

// strs reads an IAM Action or Resource, which may be one string or a list.
func strs(v interface{}) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []interface{}:
		out := make([]string, 0, len(v))
		for _, s := range v {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}

func TestSecretParametersAreNamesOrHidden(t *testing.T) {
	tmpl := open(t)
	secretish := regexp.MustCompile(`(?i)secret|key|token|password`)
	for name, p := range tmpl.Parameters {
		if !secretish.MatchString(name) {
			continue
		}
		named := strings.HasSuffix(name, "SecretName") // names a Secrets Manager secret: not itself secret
		if !named && (p.NoEcho == nil || !*p.NoEcho) {
			t.Errorf("parameter %s looks like a secret: make it the name of a Secrets Manager secret (…SecretName) or set NoEcho", name)
		}
		if d, ok := p.Default.(string); ok && plainSecret.MatchString(d) {
			t.Errorf("parameter %s defaults to what looks like a secret", name)
		}
	}
}

func TestOutputs(t *testing.T) {
	tmpl := open(t)
	want := map[string]string{
		"ApiUrl":               "!Sub https://${CheckoutApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/",
		"IdempotencyTableName": "!Ref IdempotencyTable",
		"OrdersTableName":      "!Ref OrdersTable",
	}
	for name, value := range want {
		out, ok := tmpl.Outputs[name]
		if !ok {
			t.Errorf("output %s missing", name)
			continue
		}
		if out.Value != value {
			t.Errorf("output %s = %v, want %s", name, out.Value, value)
		}
	}
}

func TestSampleEventsMatchTheRoutes(t *testing.T) {
	files, err := filepath.Glob(eventsGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in %s (%v)", eventsGlob, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			var e events.APIGatewayV2HTTPRequest
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("not an HTTP API payload 2.0 event: %v", err)
			}
			if e.Version != "2.0" {
				t.Errorf("version = %q, want 2.0", e.Version)
			}
			if _, ok := routes[e.RouteKey]; !ok {
				t.Errorf("routeKey %q is not a route of the template", e.RouteKey)
			}
			c := e.RequestContext
			if c.RouteKey != e.RouteKey || c.HTTP.Method+" " != e.RouteKey[:len(c.HTTP.Method)+1] || c.HTTP.Path != e.RawPath || c.Stage != "$default" {
				t.Errorf("requestContext (routeKey %q, %s %s, stage %q) disagrees with the event (%q, %s)", c.RouteKey, c.HTTP.Method, c.HTTP.Path, c.Stage, e.RouteKey, e.RawPath)
			}
			if strings.Contains(e.RouteKey, "{id}") && e.PathParameters["id"] == "" {
				t.Error("route has {id} but pathParameters.id is empty")
			}
			if e.RouteKey == "POST /checkout" && header(e.Headers, "idempotency-key") == "" {
				t.Error("checkout event without an Idempotency-Key header")
			}
			if e.RouteKey == "POST /webhooks" && header(e.Headers, "stripe-signature") == "" && header(e.Headers, "webhook-signature") == "" {
				t.Error("webhook event without a signature header")
			}
		})
	}
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
