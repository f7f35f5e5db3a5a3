package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestItemSizeFollowsTheDocumentedRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"a string counts its name and its bytes", map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "abc"}}, 5},
		{"a number counts one byte per two digits plus one", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "1767225600"}}, 1 + 6},
		{"zero counts one byte", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "0"}}, 2},
		{"a boolean counts one byte", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{Value: true}}, 2},
		{"a map counts 3 bytes plus one per element", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberS{Value: "vv"}}}}, 1 + 3 + 1 + 1 + 2},
		{"binary counts its bytes", map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: make([]byte, 1500)}}, 1501},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ItemSize(tc.item); got != tc.want {
				t.Errorf("ItemSize = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        Call
		rcu, wcu float64
		computed bool
	}{
		{"a returned write is taken as returned", Call{Op: "PutItem", OK: true, CU: 2}, 0, 2, false},
		{"a returned read is taken as returned", Call{Op: "GetItem", OK: true, CU: 1}, 1, 0, false},
		{"a failed conditional put costs the existing item's KB", Call{Op: "PutItem", CU: -1, Old: []int{1500}, Put: []int{100}}, 0, 2, true},
		{"a failed conditional put costs at least 1", Call{Op: "PutItem", CU: -1, Old: []int{-1}, Put: []int{10}}, 0, 1, true},
		{"a write that failed otherwise costs nothing", Call{Op: "PutItem", CU: -1, Err: "ProvisionedThroughputExceededException", Put: []int{10}}, 0, 0, true},
		{"a transaction costs 2 per KB of each item, whatever Local returned", Call{Op: "TransactWriteItems", OK: true, CU: 16, WCU: 16, Put: []int{2100, -1}}, 0, 2*3 + 2, true},
		{"a cancelled transaction counts the existing items", Call{Op: "TransactWriteItems", CU: -1, Old: []int{584, -1}, Put: []int{247, -1}}, 0, 4, true},
		{"a success without capacity counts nothing", Call{Op: "DescribeTable", OK: true, CU: -1}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, computed := tc.c.Units()
			if r != tc.rcu || w != tc.wcu || computed != tc.computed {
				t.Errorf("Units = %v, %v, %v; want %v, %v, %v", r, w, computed, tc.rcu, tc.wcu, tc.computed)
			}
		})
	}
}

// TestMiddlewareOnDynamoDBLocal: every request asks for its capacity; successes carry what
// DynamoDB Local returned, a failed condition the existing item's size; the lines parse back.
func TestMiddlewareOnDynamoDBLocal(t *testing.T) {
	var out bytes.Buffer
	c := testenv.DynamoClient(t, Option(Lines(&out)))
	table := testenv.Table(t, c, ddb.Table{Name: "capacity", PartitionKey: "pk"})
	ctx := context.Background()
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "v": &types.AttributeValueMemberS{Value: strings.Repeat("x", 1500)}}
	out.Reset() // table creation
	put := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if _, err := c.PutItem(ctx, put); err != nil {
		t.Fatal(err)
	}
	var cf *types.ConditionalCheckFailedException
	if _, err := c.PutItem(ctx, put); !errors.As(err, &cf) {
		t.Fatalf("second put: %v", err)
	}
	if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": item["pk"]}, ConsistentRead: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	var calls []Call
	for line := range strings.Lines(out.String()) {
		rest, ok := strings.CutPrefix(line, LinePrefix)
		if !ok {
			t.Fatalf("line without prefix: %q", line)
		}
		var call Call
		if err := json.Unmarshal([]byte(rest), &call); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, call)
	}
	if len(calls) != 3 {
		t.Fatalf("%d calls: %+v", len(calls), calls)
	}
	want := []struct {
		op       string
		ok       bool
		rcu, wcu float64
		computed bool
	}{{"PutItem", true, 0, 2, false}, {"PutItem", false, 0, 2, true}, {"GetItem", true, 1, 0, false}}
	for i, w := range want {
		r, wc, computed := calls[i].Units()
		if calls[i].Op != w.op || calls[i].OK != w.ok || r != w.rcu || wc != w.wcu || computed != w.computed {
			t.Errorf("call %d: %+v gives %v RCU %v WCU (computed %v); want %+v", i, calls[i], r, wc, computed, w)
		}
	}
	if calls[1].Err != "ConditionalCheckFailedException" || len(calls[1].Old) != 1 || calls[1].Old[0] != ItemSize(item) {
		t.Errorf("the failed put: %+v (item size %d)", calls[1], ItemSize(item))
	}
}
