package samtemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
)

const (
	templatePath = "../../template.yaml"
	makefilePath = "../../Makefile"
	eventsGlob   = "../../events/*.json"
)

// plainSecret matches what Stripe and Standard Webhooks secrets look like.
var plainSecret = regexp.MustCompile(`\b(sk|rk)_(live|test)_|\bwhsec_`)

// routes maps each HTTP API route key to the function that must serve it (from Functions).
func routes() map[string]string {
	out := map[string]string{}
	for _, f := range Functions {
		for _, r := range f.Routes {
			out[r] = f.Name
		}
	}
	return out
}

// Which branch of every Fn::If the parsed template takes: as deployed with every condition
// true (every optional feature on, the most granted) or false.
const (
	allOn  = 1
	allOff = 2
)

// open parses template.yaml with goformation, every condition true (see openWith).
func open(t *testing.T) *cloudformation.Template { return openWith(t, allOn) }

// openWith parses template.yaml with goformation. Intrinsic functions are not evaluated but
// rendered as readable strings ("!Ref X", "!GetAtt X.Arn", "!Sub ..."), so the test can see
// what refers to what; a Ref to a parameter with a non-empty default yields the default, as a
// deployment without overrides would. Fn::If takes the branch given (allOn or allOff); a
// branch that is AWS::NoValue becomes nil.
func openWith(t *testing.T, branch int) *cloudformation.Template {
	t.Helper()
	render := func(tag string) intrinsics.IntrinsicHandler {
		return func(_ string, input interface{}, _ interface{}) interface{} {
			return tag + " " + flat(input)
		}
	}
	tmpl, err := goformation.OpenWithOptions(templatePath, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(_ string, input interface{}, tpl interface{}) interface{} {
				if def := parameterDefault(tpl, input); def != nil && def != "" {
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
			"Fn::Sub": render("!Sub"),
			"Fn::If": func(_ string, input interface{}, _ interface{}) interface{} {
				parts, ok := input.([]interface{})
				if !ok || len(parts) != 3 {
					return "!If " + flat(input)
				}
				if parts[branch] == "!Ref AWS::NoValue" {
					return nil
				}
				return parts[branch]
			},
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
	var want []string
	for _, f := range Functions {
		want = append(want, f.Name)
	}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("functions = %v, want %v (one row of Functions per function)", names, want)
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
		code                               ddb.Table
	}{
		{"the idempotency table is keyed by idem.PartitionKey and expires idem.TTLAttribute", "IdempotencyTable", idem.PartitionKey, idem.TTLAttribute, false, idem.Table("")},
		{"the orders table is keyed by orders.PartitionKey, never expires, can be restored and has the open orders' index", "OrdersTable", orders.PartitionKey, "", true, orders.Table("")},
		{"the catalog table is keyed by catalog.PartitionKey (products and their stock shards), never expires and can be restored", "CatalogTable", catalog.PartitionKey, "", true, catalog.Table("")},
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
			// The key and the indexes' keys, all strings, as the code's definition (ddb.Ensure) has them.
			wantAttrs := map[string]bool{c.partitionKey: true}
			wantIndexes := map[string]string{}
			for _, ix := range c.code.Indexes {
				wantAttrs[ix.PartitionKey], wantAttrs[ix.SortKey] = true, true
				wantIndexes[ix.Name] = ix.PartitionKey + "/" + ix.SortKey
			}
			gotAttrs := map[string]bool{}
			for _, d := range tbl.AttributeDefinitions {
				if d.AttributeType != "S" {
					t.Errorf("attribute %s of type %s, want S", d.AttributeName, d.AttributeType)
				}
				gotAttrs[d.AttributeName] = true
			}
			if !maps.Equal(gotAttrs, wantAttrs) {
				t.Errorf("AttributeDefinitions = %v, want %v", gotAttrs, wantAttrs)
			}
			gotIndexes := map[string]string{}
			for _, g := range tbl.GlobalSecondaryIndexes {
				keys := map[string]string{}
				for _, k := range g.KeySchema {
					keys[k.KeyType] = k.AttributeName
				}
				gotIndexes[g.IndexName] = keys["HASH"] + "/" + keys["RANGE"]
			}
			if !maps.Equal(gotIndexes, wantIndexes) {
				t.Errorf("indexes = %v, want %v (internal/%s's Table)", gotIndexes, wantIndexes, strings.ToLower(strings.TrimSuffix(c.logicalID, "Table")))
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
			if c.pitr && (tbl.DeletionProtectionEnabled == nil || !*tbl.DeletionProtectionEnabled) {
				t.Error("DeletionProtectionEnabled is not true: orders record money taken, the catalog the units for sale")
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
		// sam local has no Secrets Manager: values are given directly, ARNs left empty.
		for _, f := range Functions {
			for arnVar := range f.Secrets {
				if v, ok := vars[arnVar]; f.Name == name && (!ok || v != "") {
					t.Errorf("env.json: %s.%s = %q, want set empty (the template's ARN would be read from Secrets Manager)", name, arnVar, v)
				}
			}
		}
		if name == "CheckoutFunction" && vars[config.EnvPaymentProvider] != config.ProviderLocal && vars[config.EnvStripeSecretKey] == "" {
			t.Errorf("env.json: CheckoutFunction has neither %s=local nor a %s: it would refuse to start",
				config.EnvPaymentProvider, config.EnvStripeSecretKey)
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
	// Production binaries leave out test-only code (the local provider's fault injection).
	if !regexp.MustCompile(`(?m)^LAMBDA_BUILD :=.*-tags [^ ]*\bproduction\b`).Match(makefile) {
		t.Error("LAMBDA_BUILD does not build with -tags ...,production")
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
			// The Stripe client's worst case (timeouts and retries) fits inside what a checkout
			// or reconciler handler has: the function's timeout minus the engine's reserve.
			if budget := time.Duration(deref(timeout))*time.Second - idem.Reserve; name != "WebhookFunction" && payment.StripeWorstCase >= budget {
				t.Errorf("payment.StripeWorstCase %s does not fit the %s a handler has (Timeout %d s - idem.Reserve)", payment.StripeWorstCase, budget, deref(timeout))
			}
			if name == "WebhookFunction" && deref(timeout) > 10 {
				t.Errorf("Timeout = %d, want at most 10 s: a delivery is a few DynamoDB calls and a 5 s wait", deref(timeout))
			}
			if fn.CodeUri == nil || deref(fn.CodeUri.String) != "." {
				t.Errorf("CodeUri = %+v, want . (the module root, so internal/ is built)", fn.CodeUri)
			}
			if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", bm)
			}
			target := regexp.MustCompile(`(?m)^build-` + regexp.QuoteMeta(name) + `:.*\n\t.*\$\(LAMBDA_BUILD\)`)
			if !target.Match(makefile) {
				t.Errorf("the Makefile has no target build-%s running $(LAMBDA_BUILD)", name)
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
			if _, ok := routes()[e.RouteKey]; !ok {
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
