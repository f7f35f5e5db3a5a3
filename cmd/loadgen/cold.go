package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// coldWebhookSecret signs the webhook events of the cold starts, so the function verifies and
// applies them instead of refusing them with 400.
const coldWebhookSecret = "whsec_loadgen_coldstart_only"

// coldFunction is one Lambda function of template.yaml, built twice: for this machine (to run
// it) and for linux/arm64 as `make build` does (for its size).
type coldFunction struct {
	name      string // logical id in template.yaml
	pkg       string
	eventFile string
	// event makes run's event from the file; orderIDs are the orders the checkout cold
	// starts created so far.
	event func(raw []byte, run int, runID string, orderIDs []string) ([]byte, error)

	bin       string
	hostSize  int64
	armSize   int64
	buildErr  error
	samples   []coldstart.Sample
	runErr    error
	summary   coldstart.Summary
	lastLines string // the function's output when it failed
	answer    string // the body of its last answer
}

// coldRun holds the built bootstraps.
type coldRun struct {
	root, dir string
	fns       []*coldFunction
}

// coldReport is the cold start section of the report.
type coldReport struct {
	goos, goarch string
	fns          []*coldFunction
}

func (c *coldRun) close() { _ = os.RemoveAll(c.dir) }

// buildColdstart builds every function; a function that does not build is reported, not fatal.
func buildColdstart(ctx context.Context) (*coldRun, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadgen-coldstart-")
	if err != nil {
		return nil, err
	}
	c := &coldRun{root: root, dir: dir, fns: []*coldFunction{
		{name: "CheckoutFunction", pkg: "./functions/checkout", eventFile: "events/checkout.json", event: checkoutEvent},
		{name: "WebhookFunction", pkg: "./functions/webhook", eventFile: "events/webhook-stripe.json", event: webhookEvent},
	}}
	for _, f := range c.fns {
		f.bin = filepath.Join(dir, f.name, "bootstrap")
		if f.hostSize, f.buildErr = coldstart.Build(ctx, root, f.pkg, runtime.GOOS, runtime.GOARCH, f.bin); f.buildErr != nil {
			continue
		}
		f.armSize, f.buildErr = coldstart.Build(ctx, root, f.pkg, "linux", "arm64", filepath.Join(dir, f.name, "arm64", "bootstrap"))
	}
	return c, nil
}

// measure starts each built function runs times against the system's DynamoDB.
func (c *coldRun) measure(ctx context.Context, sys *system, runs int, log io.Writer) *coldReport {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=:UTC", "LANG=C.UTF-8",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023", "_HANDLER=bootstrap",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		config.EnvIdempotencyTable + "=" + sys.cfg.IdempotencyTable,
		config.EnvOrdersTable + "=" + sys.cfg.OrdersTable,
		config.EnvCatalogTable + "=" + sys.cfg.CatalogTable,
		config.EnvDynamoDBEndpoint + "=" + sys.endpoint,
		config.EnvStripeWebhookSecret + "=" + coldWebhookSecret,
		// The functions fail closed: the local provider runs only when chosen explicitly.
		config.EnvPaymentProvider + "=" + config.ProviderLocal,
	}
	runID := randomID()
	var orderIDs []string
	for _, f := range c.fns {
		if f.buildErr != nil {
			fmt.Fprintf(log, "  %s: not built: %v\n", f.name, f.buildErr)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(c.root, f.eventFile))
		if err != nil {
			f.runErr = err
			continue
		}
		fenv := append(env[:len(env):len(env)], "AWS_LAMBDA_FUNCTION_NAME=checkout-"+f.name,
			"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/checkout-"+f.name, "AWS_LAMBDA_LOG_STREAM_NAME=loadgen")
		for i := range runs {
			event, err := f.event(raw, i, runID, orderIDs)
			if err != nil {
				f.runErr = err
				break
			}
			var out bytes.Buffer
			s, err := coldstart.Run(ctx, f.bin, fenv, event, &out)
			if err == nil && s.Error != "" {
				err = fmt.Errorf("the handler failed: %s", s.Error)
			}
			if err != nil {
				f.runErr, f.lastLines = err, lastLines(out.String(), 5)
				break
			}
			f.samples = append(f.samples, s)
			f.answer = string(bytes.TrimSpace(answeredBody(s.Body)))
			if id := answeredOrderID(s.Body); id != "" {
				orderIDs = append(orderIDs, id)
			}
		}
		f.summary = coldstart.Summarize(f.samples)
		if f.runErr != nil {
			fmt.Fprintf(log, "  %s: %v\n", f.name, f.runErr)
			continue
		}
		fmt.Fprintf(log, "  %-16s init p50 %s max %s, first answer p50 %s max %s, statuses %v\n", f.name,
			ms(f.summary.InitMedian), ms(f.summary.InitMax), ms(f.summary.ResponseMedian), ms(f.summary.ResponseMax), f.summary.Statuses)
	}
	return &coldReport{goos: runtime.GOOS, goarch: runtime.GOARCH, fns: c.fns}
}

// checkoutEvent is events/checkout.json with a new Idempotency-Key per run: each cold start
// takes the first-time path (claim, order, charge), not a replay.
func checkoutEvent(raw []byte, run int, runID string, _ []string) ([]byte, error) {
	return checkoutEventWithKey(raw, fmt.Sprintf("coldstart-%s-%d", runID, run))
}

// checkoutEventWithKey is events/checkout.json with key as its Idempotency-Key.
func checkoutEventWithKey(raw []byte, key string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("events/checkout.json: %w", err)
	}
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		return nil, fmt.Errorf("events/checkout.json: no headers")
	}
	h["idempotency-key"] = key
	return json.Marshal(ev)
}

// webhookEvent is events/webhook-stripe.json with a new event id per run, about an order a
// checkout cold start created (when there is one), signed with coldWebhookSecret now: the
// function verifies it and applies it to a real order.
func webhookEvent(raw []byte, run int, runID string, orderIDs []string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: %w", err)
	}
	b64, _ := ev["body"].(string)
	body, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: body: %w", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: body: %w", err)
	}
	payload["id"] = fmt.Sprintf("evt_coldstart_%s_%d", runID, run)
	if len(orderIDs) > 0 {
		data, _ := payload["data"].(map[string]any)
		obj, _ := data["object"].(map[string]any)
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			return nil, fmt.Errorf("events/webhook-stripe.json: no data.object.metadata")
		}
		meta["order_id"] = orderIDs[run%len(orderIDs)]
	}
	if body, err = json.Marshal(payload); err != nil {
		return nil, err
	}
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		return nil, fmt.Errorf("events/webhook-stripe.json: no headers")
	}
	h["stripe-signature"] = webhook.SignStripe(coldWebhookSecret, time.Now(), body)
	h["content-length"] = strconv.Itoa(len(body))
	ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString(body), true
	return json.Marshal(ev)
}

// answeredBody is the body of an API Gateway payload 2.0 response, or nil.
func answeredBody(resp []byte) []byte {
	var r struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if json.Unmarshal(resp, &r) != nil {
		return nil
	}
	if !r.IsBase64Encoded {
		return []byte(r.Body)
	}
	body, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		return nil
	}
	return body
}

// answeredOrderID is the order_id in an API Gateway payload 2.0 response, or "".
func answeredOrderID(resp []byte) string {
	var o struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(answeredBody(resp), &o)
	return o.OrderID
}

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory: run loadgen from the repository")
		}
		dir = parent
	}
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
