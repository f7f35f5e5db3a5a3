package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps orders in a DynamoDB table shaped like Table.
type DynamoStore struct {
	client DynamoDBAPI
	table  string
	stock  string // the catalog table, whose shard items hold the units (see WithStock)
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over table.
func NewDynamoStore(client DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

// WithStock makes the store take and put back units in the shard items of table (the
// catalog's, package stock) and returns it. Reserve needs it.
func (s *DynamoStore) WithStock(table string) *DynamoStore { s.stock = table; return s }

// Attributes besides PartitionKey, OpenAttribute and UpdatedAttribute. Times are fixed-width
// RFC 3339 strings in UTC with nanoseconds; status_rank (Status.Rank) is what conditions compare.
const (
	attrCart    = "cart_id"
	attrAmount  = "amount"
	attrCurr    = "currency"
	attrStatus  = "status"
	attrRank    = "status_rank"
	attrIntent  = "payment_intent_id" // absent until known
	attrEmail   = "customer_email"    // absent when empty
	attrOwner   = "owner"             // absent when empty
	attrMethod  = "payment_method"    // absent when empty
	attrProvKey = "provider_key"      // absent on orders made by Create without one
	// attrProvKeyAt is when Rekey recorded provider_key; absent for the first key.
	attrProvKeyAt = "provider_key_at"
	attrRefunded  = "amount_refunded" // absent until a refund
	attrCreated   = "created_at"
	attrLines     = "lines"         // a list of maps (Line); absent without lines
	attrDraws     = "draws"         // a list of maps (stock.Draw); absent without lines
	attrUnits     = "units"         // Units; absent without lines
	attrPurchase  = "purchase"      // purchase(o): what a retry of its Reserve must ask for
	attrReason    = "refund_reason" // absent unless set
)

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
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
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

func orderItem(o Order) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		PartitionKey:     ddb.S(o.ID),
		attrCart:         ddb.S(o.CartID),
		attrAmount:       ddb.N(o.Amount),
		attrCurr:         ddb.S(o.Currency),
		attrStatus:       ddb.S(string(o.Status)),
		attrRank:         ddb.N(int64(o.Status.Rank())),
		attrCreated:      ddb.S(formatTime(o.CreatedAt)),
		UpdatedAttribute: ddb.S(formatTime(o.UpdatedAt)),
	}
	for k, v := range map[string]string{attrIntent: o.PaymentIntentID, attrEmail: o.CustomerEmail,
		attrOwner: o.Owner, attrMethod: o.PaymentMethod, attrProvKey: o.ProviderKey, attrReason: o.RefundReason} {
		if v != "" {
			item[k] = ddb.S(v)
		}
	}
	if !o.ProviderKeyAt.IsZero() {
		item[attrProvKeyAt] = ddb.S(formatTime(o.ProviderKeyAt))
	}
	if o.AmountRefunded != 0 {
		item[attrRefunded] = ddb.N(o.AmountRefunded)
	}
	if o.Status.Open() {
		item[OpenAttribute] = ddb.S(string(o.Status))
	}
	for a, v := range unitAttributes(o) {
		item[a] = v
	}
	return item
}

// unitAttributes returns the attributes of o's lines and units (none without lines).
func unitAttributes(o Order) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	if len(o.Lines) == 0 {
		return out
	}
	lines, _ := attributevalue.Marshal(o.Lines) // plain structs: cannot fail
	draws, _ := attributevalue.Marshal(o.Draws)
	out[attrLines], out[attrDraws] = lines, draws
	out[attrPurchase] = ddb.S(purchase(o))
	if o.Units != NoUnits {
		out[attrUnits] = ddb.S(string(o.Units))
	}
	return out
}

func itemOrder(item map[string]types.AttributeValue) (Order, error) {
	o := Order{
		ID:              ddb.String(item, PartitionKey),
		CartID:          ddb.String(item, attrCart),
		Currency:        ddb.String(item, attrCurr),
		Status:          Status(ddb.String(item, attrStatus)),
		PaymentIntentID: ddb.String(item, attrIntent),
		CustomerEmail:   ddb.String(item, attrEmail),
		Owner:           ddb.String(item, attrOwner),
		PaymentMethod:   ddb.String(item, attrMethod),
		ProviderKey:     ddb.String(item, attrProvKey),
		Units:           Units(ddb.String(item, attrUnits)),
		RefundReason:    ddb.String(item, attrReason),
	}
	var err error
	if v, ok := item[attrLines]; ok {
		if err = attributevalue.Unmarshal(v, &o.Lines); err != nil {
			return Order{}, fmt.Errorf("orders: stored order %s: lines: %w", o.ID, err)
		}
	}
	if v, ok := item[attrDraws]; ok {
		if err = attributevalue.Unmarshal(v, &o.Draws); err != nil {
			return Order{}, fmt.Errorf("orders: stored order %s: draws: %w", o.ID, err)
		}
	}
	if o.Amount, err = ddb.Int(item, attrAmount); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	if at := ddb.String(item, attrProvKeyAt); at != "" {
		if o.ProviderKeyAt, err = parseTime(at); err != nil {
			return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
		}
	}
	if _, ok := item[attrRefunded]; ok {
		if o.AmountRefunded, err = ddb.Int(item, attrRefunded); err != nil {
			return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
		}
	}
	if o.CreatedAt, err = parseTime(ddb.String(item, attrCreated)); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	if o.UpdatedAt, err = parseTime(ddb.String(item, UpdatedAttribute)); err != nil {
		return Order{}, fmt.Errorf("orders: stored order %s: %w", o.ID, err)
	}
	return o, nil
}

// timeLayout is RFC 3339 with nine fractional digits always: unlike time.RFC3339Nano, which
// trims zeros, its strings sort as the times compare, which the open index's sort key needs.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}
