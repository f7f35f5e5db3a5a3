// Package capacity measures what DynamoDB requests cost: an SDK middleware asks DynamoDB for
// its consumed capacity (ReturnConsumedCapacity=TOTAL on every input that takes it) and
// describes each request as a Call, with what DynamoDB returned and the item sizes needed to
// compute the cost from the documented rules where it returned nothing (failed conditional
// writes and cancelled transactions answer with an error, which carries no capacity).
//
// The Powertools peer (bench/powertools/capacity.mjs) writes the same Call lines from its own
// SDK middleware stack, so both sides are costed by the same rules (Units).
package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// LinePrefix starts every Call line a function writes to its standard error.
const LinePrefix = "BENCHDDB "

// Call is one DynamoDB request as the middleware saw it.
type Call struct {
	// RequestID is the Lambda invocation that sent it ("" outside Lambda).
	RequestID string `json:"rid,omitempty"`
	Op        string `json:"op"`
	OK        bool   `json:"ok"`
	Err       string `json:"err,omitempty"`
	// CU, RCU and WCU are what DynamoDB returned (CU the total); CU is -1 when it returned
	// nothing.
	CU  float64 `json:"cu"`
	RCU float64 `json:"rcu,omitempty"`
	WCU float64 `json:"wcu,omitempty"`
	// Old are the sizes in bytes of the items a failed condition returned (ALL_OLD), one per
	// written item (-1: none returned); Put the sizes of the items a Put wrote (-1: not a Put).
	Old []int `json:"old,omitempty"`
	Put []int `json:"put,omitempty"`
}

// Units returns the read and write units of c, and whether they were computed from the
// documented rules rather than returned by DynamoDB.
//
// A TransactWriteItems is always computed: 2 WCU per KB of each item, at least 1 KB each (a
// ConditionCheck, an Update and a Delete count 1 KB unless a failed condition returned the
// item), because DynamoDB Local repeats a transaction's capacity once per table it touches
// instead of splitting it. A cancelled transaction is counted as the write it attempted: an
// upper bound, as the documentation does not state its charge. A failed conditional PutItem,
// UpdateItem or DeleteItem consumes 1 WCU per KB of the existing item, at least 1. Other
// requests use what DynamoDB returned.
func (c Call) Units() (rcu, wcu float64, computed bool) {
	kb := func(i int) float64 {
		n := -1
		if i < len(c.Old) {
			n = c.Old[i]
		}
		if n < 0 && i < len(c.Put) {
			n = c.Put[i]
		}
		return math.Max(1, math.Ceil(float64(max(n, 0))/1024))
	}
	switch {
	case c.Op == "TransactWriteItems":
		for i := range max(len(c.Old), len(c.Put)) {
			wcu += 2 * kb(i)
		}
		return 0, wcu, true
	case c.CU >= 0 && c.RCU == 0 && c.WCU == 0 && isRead(c.Op):
		return c.CU, 0, false
	case c.CU >= 0 && c.RCU == 0 && c.WCU == 0:
		return 0, c.CU, false
	case c.CU >= 0:
		return c.RCU, c.WCU, false
	case !c.OK && (c.Op == "PutItem" || c.Op == "UpdateItem" || c.Op == "DeleteItem"):
		return 0, kb(0), true
	}
	return 0, 0, true // nothing returned and nothing to compute from
}

func isRead(op string) bool {
	switch op {
	case "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems":
		return true
	}
	return false
}

// Recorder receives every Call; it must be safe for concurrent use.
type Recorder func(Call)

// Lines returns a Recorder that writes each Call as one line (LinePrefix and JSON) to w.
func Lines(w io.Writer) Recorder {
	var mu sync.Mutex
	return func(c Call) {
		b, _ := json.Marshal(c)
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(append(append([]byte(LinePrefix), b...), '\n'))
	}
}

// Option installs the middleware on a DynamoDB client (dynamodb.New, ddb.NewLambdaClient,
// app.LoadLambda).
func Option(rec Recorder) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchConsumedCapacity",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					middleware.InitializeOutput, middleware.Metadata, error) {
					c := Call{Op: middleware.GetOperationName(ctx), CU: -1}
					if lc, ok := lambdacontext.FromContext(ctx); ok {
						c.RequestID = lc.AwsRequestID
					}
					c.Put = askAndSize(in.Parameters)
					out, md, err := next.HandleInitialize(ctx, in)
					c.OK = err == nil
					if err == nil {
						c.CU, c.RCU, c.WCU = returned(out.Result)
					} else {
						var ae smithy.APIError
						if errors.As(err, &ae) {
							c.Err = ae.ErrorCode()
						}
						c.Old = oldItems(err)
					}
					rec(c)
					return out, md, err
				}), middleware.After)
		})
	}
}

// askAndSize sets ReturnConsumedCapacity on the input (every input with that field) and
// returns the sizes of the items it puts.
func askAndSize(p any) (put []int) {
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("ReturnConsumedCapacity"); f.IsValid() {
			f.Set(reflect.ValueOf(types.ReturnConsumedCapacityTotal))
		}
	}
	switch in := p.(type) {
	case *dynamodb.PutItemInput:
		put = []int{ItemSize(in.Item)}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			n := -1
			if it.Put != nil {
				n = ItemSize(it.Put.Item)
			}
			put = append(put, n)
		}
	}
	return put
}

// returned is the consumed capacity an output carries (its ConsumedCapacity field, one or a
// list): total, read and write units (-1 total when it carries none).
func returned(out any) (cu, rcu, wcu float64) {
	var ccs []types.ConsumedCapacity
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("ConsumedCapacity"); f.IsValid() {
			switch c := f.Interface().(type) {
			case *types.ConsumedCapacity:
				if c != nil {
					ccs = []types.ConsumedCapacity{*c}
				}
			case []types.ConsumedCapacity:
				ccs = c
			}
		}
	}
	if len(ccs) == 0 {
		return -1, 0, 0
	}
	f := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	for _, c := range ccs {
		cu, rcu, wcu = cu+f(c.CapacityUnits), rcu+f(c.ReadCapacityUnits), wcu+f(c.WriteCapacityUnits)
	}
	return cu, rcu, wcu
}

// oldItems are the sizes of the items a failed condition returned.
func oldItems(err error) []int {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		if cf.Item == nil {
			return []int{-1}
		}
		return []int{ItemSize(cf.Item)}
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		old := make([]int, len(tc.CancellationReasons))
		for i, r := range tc.CancellationReasons {
			old[i] = -1
			if r.Item != nil {
				old[i] = ItemSize(r.Item)
			}
		}
		return old
	}
	return nil
}

// ItemSize is the size of an item by DynamoDB's documented rules: each attribute's name plus
// its value (strings and binaries their length, numbers about one byte per two significant
// digits plus one, booleans and nulls one byte, lists and maps 3 bytes plus one per element
// plus the elements).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return len(strings.Join(v.Value, ""))
	case *types.AttributeValueMemberNS:
		n := 0
		for _, e := range v.Value {
			n += numberSize(e)
		}
		return n
	case *types.AttributeValueMemberBS:
		return len(bytes.Join(v.Value, nil))
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize: (significant digits + 1) / 2, plus one byte.
func numberSize(s string) int {
	digits := 0
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == 0 {
		return 1
	}
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
