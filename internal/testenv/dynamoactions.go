package testenv

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/checkout-idem/checkout/internal/samtemplate"
)

// DynamoActions records the IAM actions a DynamoDB client's calls need, per table name, as
// DynamoDB authorizes them: a TransactWriteItems as the actions of its items (Put, Update,
// Delete, ConditionCheck), a TransactGetItems as GetItem. Tests compare them with the grants
// of template.yaml (internal/samtemplate.Functions).
type DynamoActions struct {
	mu   sync.Mutex
	seen map[string][]string // table name -> "dynamodb:Action"
}

// Option installs the recorder on a client.
func (d *DynamoActions) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordActions",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					middleware.InitializeOutput, middleware.Metadata, error) {
					d.record(middleware.GetOperationName(ctx), in.Parameters)
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

func (d *DynamoActions) record(op string, params any) {
	add := func(table *string, action string) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.seen == nil {
			d.seen = map[string][]string{}
		}
		t := aws.ToString(table)
		if !slices.Contains(d.seen[t], "dynamodb:"+action) {
			d.seen[t] = append(d.seen[t], "dynamodb:"+action)
		}
	}
	switch in := params.(type) {
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				add(it.Put.TableName, "PutItem")
			case it.Update != nil:
				add(it.Update.TableName, "UpdateItem")
			case it.Delete != nil:
				add(it.Delete.TableName, "DeleteItem")
			case it.ConditionCheck != nil:
				add(it.ConditionCheck.TableName, "ConditionCheckItem")
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				add(it.Get.TableName, "GetItem")
			}
		}
	case *dynamodb.PutItemInput:
		add(in.TableName, op)
	case *dynamodb.GetItemInput:
		add(in.TableName, op)
	case *dynamodb.UpdateItemInput:
		add(in.TableName, op)
	case *dynamodb.DeleteItemInput:
		add(in.TableName, op)
	case *dynamodb.QueryInput:
		t := aws.ToString(in.TableName)
		if in.IndexName != nil {
			t += "/index/" + *in.IndexName
		}
		add(&t, op)
	case *dynamodb.ScanInput:
		add(in.TableName, op)
	case *dynamodb.BatchGetItemInput:
		for table := range in.RequestItems {
			add(aws.String(table), op)
		}
	default:
		add(aws.String("?"), op) // an operation this recorder does not know: never granted
	}
}

// Seen returns the actions recorded on table (a table name; "<name>/index/<index>" for Query
// on an index).
func (d *DynamoActions) Seen(table string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen[table])
}

// Tables returns every table name with recorded actions.
func (d *DynamoActions) Tables() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for t := range d.seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// CheckGranted fails for every recorded action that the function's row does not list, and
// for each of mustSee that was not recorded (the scenario did not reach that path).
func (rec *DynamoActions) CheckGranted(t testing.TB, function string, mustSee ...string) {
	t.Helper()
	row := samtemplate.Lookup(function)
	// The tables are named by the function's environment (IDEMPOTENCY_TABLE, ORDERS_TABLE).
	names := map[string]string{}
	for logical, env := range samtemplate.TableEnv {
		names[os.Getenv(env)] = logical
	}
	var all []string
	for _, table := range rec.Tables() {
		logical, ok := names[table]
		if !ok {
			t.Errorf("%s calls DynamoDB on %q, not one of its tables", function, table)
			continue
		}
		for _, a := range rec.Seen(table) {
			all = append(all, a)
			if !slices.Contains(row.Uses[logical], a) {
				t.Errorf("%s performs %s on %s, which samtemplate.Functions (and so template.yaml) does not grant", function, a, logical)
			}
		}
	}
	for _, a := range mustSee {
		if !slices.Contains(all, a) {
			t.Errorf("the scenario never performed %s; recorded %v", a, all)
		}
	}
}
