// Package capacity measures what DynamoDB requests cost: an SDK middleware asks DynamoDB for
// the consumed capacity of every request (ReturnConsumedCapacity=TOTAL) and describes it as a
// Call, with what DynamoDB returned and the item sizes needed to compute the cost from the
// documented rules where it returned nothing (failed conditional writes and cancelled
// transactions answer with an error, which carries no capacity). make bench's loadgen
// (cmd/loadgen) installs it on its in-process clients, the side-by-side's checkoutfn
// (cmd/loadgen/checkoutfn) writes its Calls as lines to standard error, and the flash-sale
// bench (internal/sale) sums them per operation. The Powertools peer
// (bench/powertools/capacity.mjs) writes the same Call lines, so both are costed alike (Units).
package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"slices"
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
	RequestID string `json:"rid,omitempty"` // the Lambda invocation that sent it
	Op        string `json:"op"`
	OK        bool   `json:"ok"`
	Err       string `json:"err,omitempty"`
	// CU (the total, -1: nothing returned), RCU and WCU are what DynamoDB returned.
	CU  float64 `json:"cu"`
	RCU float64 `json:"rcu,omitempty"`
	WCU float64 `json:"wcu,omitempty"`
	// Old are the sizes in bytes of the items a failed condition returned (ALL_OLD), one per
	// written item (-1: none returned); Put the sizes of the items a Put wrote (-1: not a Put).
	Old []int `json:"old,omitempty"`
	Put []int `json:"put,omitempty"`
}

// Units returns the read and write units of c, and whether they were computed from the
// documented rules rather than returned by DynamoDB. A TransactWriteItems is always computed,
// 2 WCU per KB of each item, at least 1 KB each, because DynamoDB Local repeats a transaction's
// capacity once per table it touches; a cancelled one counts as the write it attempted (an
// upper bound: its charge is not documented). A failed conditional PutItem, UpdateItem or
// DeleteItem consumes 1 WCU per KB of the existing item, at least 1; one that failed otherwise
// (throttled, invalid) consumes nothing.
func (c Call) Units() (rcu, wcu float64, computed bool) {
	kb := func(i int) float64 {
		n := -1
		if i < len(c.Old) {
			n = c.Old[i]
		}
		if n < 0 && i < len(c.Put) {
			n = c.Put[i]
		}
		return math.Max(1, math.Ceil(float64(n)/1024))
	}
	isRead := slices.Contains([]string{"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}, c.Op)
	switch {
	case c.Op == "TransactWriteItems":
		for i := range max(len(c.Old), len(c.Put)) {
			wcu += 2 * kb(i)
		}
		return 0, wcu, true
	case c.CU >= 0 && c.RCU == 0 && c.WCU == 0 && isRead:
		return c.CU, 0, false
	case c.CU >= 0 && c.RCU == 0 && c.WCU == 0:
		return 0, c.CU, false
	case c.CU >= 0:
		return c.RCU, c.WCU, false
	case !c.OK && len(c.Old) > 0 && (c.Op == "PutItem" || c.Op == "UpdateItem" || c.Op == "DeleteItem"):
		return 0, kb(0), true
	}
	return 0, 0, true // nothing returned and nothing to compute from
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

// Option installs the middleware on a DynamoDB client (dynamodb.New, app.Load's options).
func Option(rec Recorder) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchConsumedCapacity", func(ctx context.Context, in middleware.InitializeInput,
				next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c := Call{Op: middleware.GetOperationName(ctx), CU: -1, Put: askAndSize(in.Parameters)}
				if lc, ok := lambdacontext.FromContext(ctx); ok {
					c.RequestID = lc.AwsRequestID
				}
				out, md, err := next.HandleInitialize(ctx, in)
				var ae smithy.APIError
				if c.OK = err == nil; c.OK {
					c.CU, c.RCU, c.WCU = returned(out.Result)
				} else if c.Old = oldItems(err); errors.As(err, &ae) {
					c.Err = ae.ErrorCode()
				}
				rec(c)
				return out, md, err
			}), middleware.After)
		})
	}
}

// field is the named field of the struct p points to, if any.
func field(p any, name string) reflect.Value {
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		return v.Elem().FieldByName(name)
	}
	return reflect.Value{}
}

// askAndSize sets ReturnConsumedCapacity on the input (any input with that field) and returns
// the sizes of the items it puts.
func askAndSize(p any) (put []int) {
	if f := field(p, "ReturnConsumedCapacity"); f.IsValid() {
		f.Set(reflect.ValueOf(types.ReturnConsumedCapacityTotal))
	}
	switch in := p.(type) {
	case *dynamodb.PutItemInput:
		put = []int{ItemSize(in.Item)}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			put = append(put, -1)
			if it.Put != nil {
				put[len(put)-1] = ItemSize(it.Put.Item)
			}
		}
	}
	return put
}

// returned is the consumed capacity an output carries (its ConsumedCapacity field, one or a
// list): total, read and write units (-1 total when it carries none).
func returned(out any) (cu, rcu, wcu float64) {
	f := field(out, "ConsumedCapacity")
	if !f.IsValid() || f.IsNil() || (f.Kind() == reflect.Slice && f.Len() == 0) {
		return -1, 0, 0
	}
	ccs, _ := f.Interface().([]types.ConsumedCapacity)
	if c, ok := f.Interface().(*types.ConsumedCapacity); ok {
		ccs = []types.ConsumedCapacity{*c}
	}
	v := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	for _, c := range ccs {
		cu, rcu, wcu = cu+v(c.CapacityUnits), rcu+v(c.ReadCapacityUnits), wcu+v(c.WriteCapacityUnits)
	}
	return cu, rcu, wcu
}

// oldItems are the sizes of the items a failed condition returned (-1: none).
func oldItems(err error) (old []int) {
	var cf *types.ConditionalCheckFailedException
	var tc *types.TransactionCanceledException
	size := func(item map[string]types.AttributeValue) int {
		if item == nil {
			return -1
		}
		return ItemSize(item)
	}
	if errors.As(err, &cf) {
		return []int{size(cf.Item)}
	}
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			old = append(old, size(r.Item))
		}
	}
	return old
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
	n := 0
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
		for _, e := range v.Value {
			n += numberSize(e)
		}
	case *types.AttributeValueMemberBS:
		for _, e := range v.Value {
			n += len(e)
		}
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n + 3
	case *types.AttributeValueMemberM:
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n + 3
	}
	return n
}

// numberSize: (significant digits + 1) / 2, plus one byte.
func numberSize(s string) int {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == 0 {
		return 1
	}
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
