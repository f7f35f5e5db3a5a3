package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// Apply implements Store: one UpdateItem whose condition holds the rules of Change, so
// concurrent events cannot move an order backwards or apply another intent's outcome. When
// the condition fails, the item returned with ALL_OLD (or a consistent read, on emulators
// that do not return it) tells an unknown order from a foreign intent from a change that
// was already made.
func (s *DynamoStore) Apply(ctx context.Context, id string, c Change) (Applied, error) {
	if err := checkChange(id, c); err != nil {
		return Applied{}, err
	}
	in := s.applyInput(id, c)
	for attempt := 0; ; attempt++ {
		out, err := s.client.UpdateItem(ctx, in)
		if err == nil {
			o, err := itemOrder(out.Attributes)
			return Applied{Changed: true, Order: o}, err
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Applied{}, fmt.Errorf("orders: apply %s: %w", id, err)
		}
		var old Order
		if len(ccf.Item) > 0 {
			old, err = itemOrder(ccf.Item)
		} else { // absent, or an emulator that does not return ALL_OLD
			old, err = s.Get(ctx, id)
		}
		switch {
		case err != nil:
			return Applied{}, err // ErrNotFound included
		case !ownIntent(old, c):
			return Applied{Order: old}, fmt.Errorf("%w: order %s has intent %q, the change %q", ErrForeignIntent, id, old.PaymentIntentID, c.IntentID)
		case !applies(old, c):
			return Applied{Order: old}, nil
		case attempt >= 2:
			return Applied{Order: old}, fmt.Errorf("orders: apply %s: condition failed on an order it applies to", id)
		}
		// Changed between the update and the read: try again.
	}
}

func (s *DynamoStore) applyInput(id string, c Change) *dynamodb.UpdateItemInput {
	u := newUpdate()
	u.setTo(UpdatedAttribute, ddb.S(formatTime(c.Now)))
	amount, curr := u.name(attrAmount), u.name(attrCurr)
	pi := u.name(attrIntent)
	noIntent := fmt.Sprintf("(attribute_not_exists(%s) AND %s = %s AND %s = %s)",
		pi, amount, u.value("amount", ddb.N(c.Amount)), curr, u.value("currency", ddb.S(c.Currency)))
	cond := "attribute_exists(#pk) AND " + noIntent
	if c.IntentID != "" {
		u.setTo(attrIntent, ddb.S(c.IntentID))
		cond = fmt.Sprintf("attribute_exists(#pk) AND (%s = :payment_intent_id OR %s)", pi, noIntent)
	}
	if !c.UpdatedBefore.IsZero() {
		cond += fmt.Sprintf(" AND %s < %s", u.name(UpdatedAttribute), u.value("before", ddb.S(formatTime(c.UpdatedBefore))))
	}
	if c.To == Refunded {
		u.setTo(attrRefunded, ddb.N(c.AmountRefunded))
	}
	if partialRefund(c) {
		cond += " AND (attribute_not_exists(#amount_refunded) OR #amount_refunded < :amount_refunded)"
	} else {
		u.status(c.To)
		cond += " AND #status_rank < :status_rank"
		if c.To == Refunded {
			cond += " AND (attribute_not_exists(#amount_refunded) OR #amount_refunded <= :amount_refunded)"
		}
		if c.To == Abandoned {
			cond += " AND #status_rank <= " + u.value("open_rank", ddb.N(int64(Pending.Rank())))
		}
	}
	in := ddb.UpdateInput(u.item(s.table, s.key(id), cond))
	in.ReturnValues = types.ReturnValueAllNew
	return in
}

// Stuck implements Store: one Query of OpenIndex per open status (eventually consistent, as
// every index read), created ones first.
func (s *DynamoStore) Stuck(ctx context.Context, before time.Time, limit int) ([]Order, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Order
	for _, st := range []Status{Created, Pending} { // created first: see Store.Stuck
		if len(out) >= limit {
			break
		}
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			IndexName:              aws.String(OpenIndex),
			KeyConditionExpression: aws.String("#open = :open AND #upd < :before"),
			ExpressionAttributeNames: map[string]string{
				"#open": OpenAttribute, "#upd": UpdatedAttribute,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":open": ddb.S(string(st)), ":before": ddb.S(formatTime(before)),
			},
			ScanIndexForward: aws.Bool(true),
		}
		for len(out) < limit {
			in.Limit = aws.Int32(int32(min(limit-len(out), 1000))) // read no more than is left
			page, err := s.client.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("orders: stuck %s orders: %w", st, err)
			}
			for _, item := range page.Items {
				o, err := itemOrder(item)
				if err != nil {
					return nil, err
				}
				out = append(out, o)
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	slices.SortFunc(out, cmpStuck)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
