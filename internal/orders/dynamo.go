package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// DynamoStore keeps orders in a DynamoDB table shaped like Table (partition key PartitionKey).
type DynamoStore struct {
	client DynamoDBAPI
	table  string
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over table.
func NewDynamoStore(client DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

// Attributes besides PartitionKey. Times are RFC 3339 strings in UTC with nanoseconds, which
// sort as they compare; status_rank (Status.Rank) is what the update condition compares.
const (
	attrCart    = "cart_id"
	attrAmount  = "amount"
	attrCurr    = "currency"
	attrStatus  = "status"
	attrRank    = "status_rank"
	attrIntent  = "payment_intent_id" // absent until known
	attrEmail   = "customer_email"    // absent when empty
	attrMethod  = "payment_method"    // absent when empty
	attrCreated = "created_at"
	attrUpdated = "updated_at"
)

const notExists = "attribute_not_exists(#pk)"

func (s *DynamoStore) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: ddb.S(id)}
}

// Get implements Store with a strongly consistent read.
func (s *DynamoStore) Get(ctx context.Context, id string) (Order, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: s.key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Order{}, fmt.Errorf("orders: get %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return Order{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return itemOrder(out.Item)
}

// Insert implements Store. An order without an id or with an invalid status yields a write
// DynamoDB rejects, so the transaction carrying it fails as the memory store's would.
func (s *DynamoStore) Insert(o Order) idem.Write {
	o = normalize(o)
	if o.ID == "" || !o.Status.Valid() {
		return idem.Write{Dynamo: types.TransactWriteItem{}}
	}
	return idem.Write{Dynamo: types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     orderItem(o),
		ConditionExpression:      aws.String(notExists),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	}}}
}

// Absent implements Store.
func (s *DynamoStore) Absent(id string) idem.Write {
	return idem.Write{Dynamo: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                aws.String(s.table),
		Key:                      s.key(id),
		ConditionExpression:      aws.String(notExists),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	}}}
}

// Create implements Store with one conditional PutItem.
func (s *DynamoStore) Create(ctx context.Context, o Order) error {
	o = normalize(o)
	if o.ID == "" {
		return fmt.Errorf("orders: create: empty order id")
	}
	if !o.Status.Valid() {
		return fmt.Errorf("orders: create %s: %w: %q", o.ID, ErrInvalidStatus, o.Status)
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     orderItem(o),
		ConditionExpression:      aws.String(notExists),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: %s", ErrExists, o.ID)
	}
	if err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	return nil
}

// Advance implements Store: one UpdateItem whose condition enforces the rank, so concurrent
// events cannot move an order backwards. When the condition fails, the item returned with
// ALL_OLD (or a consistent read, on emulators that do not return it) tells an unknown order
// from one already at or beyond to.
func (s *DynamoStore) Advance(ctx context.Context, id string, to Status, paymentIntentID string, now time.Time) (bool, error) {
	if !to.Valid() {
		return false, fmt.Errorf("orders: advance %s: %w: %q", id, ErrInvalidStatus, to)
	}
	expr := "SET #st = :st, #rank = :rank, #upd = :upd"
	names := map[string]string{"#pk": PartitionKey, "#st": attrStatus, "#rank": attrRank, "#upd": attrUpdated}
	values := map[string]types.AttributeValue{
		":st": ddb.S(string(to)), ":rank": ddb.N(int64(to.Rank())), ":upd": ddb.S(formatTime(now)),
	}
	if paymentIntentID != "" {
		expr += ", #pi = if_not_exists(#pi, :pi)"
		names["#pi"] = attrIntent
		values[":pi"] = ddb.S(paymentIntentID)
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 s.key(id),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #rank < :rank"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for attempt := 0; ; attempt++ {
		_, err := s.client.UpdateItem(ctx, in)
		if err == nil {
			return true, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return false, fmt.Errorf("orders: advance %s: %w", id, err)
		}
		if len(ccf.Item) > 0 {
			return false, nil // the order exists, so its rank is already >= to's
		}
		// No item: absent, or an emulator that does not return ALL_OLD.
		o, err := s.Get(ctx, id)
		if err != nil {
			return false, err // ErrNotFound included
		}
		if o.Status.Rank() >= to.Rank() {
			return false, nil
		}
		if attempt >= 2 {
			return false, fmt.Errorf("orders: advance %s: condition failed on an order below %s", id, to)
		}
		// Created between the update and the read: try again.
	}
}

// Count implements Store with a paginated, consistent Scan that only counts.
func (s *DynamoStore) Count(ctx context.Context) (int, error) {
	in := &dynamodb.ScanInput{
		TableName: aws.String(s.table), Select: types.SelectCount, ConsistentRead: aws.Bool(true),
	}
	n := 0
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("orders: count: %w", err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func orderItem(o Order) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		PartitionKey: ddb.S(o.ID),
		attrCart:     ddb.S(o.CartID),
		attrAmount:   ddb.N(o.Amount),
		attrCurr:     ddb.S(o.Currency),
		attrStatus:   ddb.S(string(o.Status)),
		attrRank:     ddb.N(int64(o.Status.Rank())),
		attrCreated:  ddb.S(formatTime(o.CreatedAt)),
		attrUpdated:  ddb.S(formatTime(o.UpdatedAt)),
	}
	if o.PaymentIntentID != "" {
		item[attrIntent] = ddb.S(o.PaymentIntentID)
	}
	if o.CustomerEmail != "" {
		item[attrEmail] = ddb.S(o.CustomerEmail)
	}
	if o.PaymentMethod != "" {
		item[attrMethod] = ddb.S(o.PaymentMethod)
	}
	return item
}

func itemOrder(item map[string]types.AttributeValue) (Order, error) {
	o := Order{
		ID:              ddb.String(item, PartitionKey),
		CartID:          ddb.String(item, attrCart),
		Currency:        ddb.String(item, attrCurr),
		Status:          Status(ddb.String(item, attrStatus)),
		PaymentIntentID: ddb.String(item, attrIntent),
		CustomerEmail:   ddb.String(item, attrEmail),
		PaymentMethod:   ddb.String(item, attrMethod),
	}
	var err error
	if o.Amount, err = ddb.Int(item, attrAmount); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	if o.CreatedAt, err = parseTime(ddb.String(item, attrCreated)); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	if o.UpdatedAt, err = parseTime(ddb.String(item, attrUpdated)); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	return o, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}
