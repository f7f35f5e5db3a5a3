package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/stock"
)

// update builds an UpdateExpression with its names and values.
type update struct {
	set, remove []string
	names       map[string]string
	values      map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{"#pk": PartitionKey}, values: map[string]types.AttributeValue{}}
}

// name registers attribute a as #a's placeholder and returns it.
func (u *update) name(a string) string { u.names["#"+a] = a; return "#" + a }

// value registers v as :k and returns the placeholder.
func (u *update) value(k string, v types.AttributeValue) string { u.values[":"+k] = v; return ":" + k }

// setTo adds "#a = :a".
func (u *update) setTo(a string, v types.AttributeValue) {
	u.set = append(u.set, u.name(a)+" = "+u.value(a, v))
}

// setString sets a to v, or removes a when v is empty.
func (u *update) setString(a, v string) {
	if v == "" {
		u.remove = append(u.remove, u.name(a))
		return
	}
	u.setTo(a, ddb.S(v))
}

// status sets the status, its rank and the open index's key (removed when not Status.Open).
func (u *update) status(s Status) {
	u.setTo(attrStatus, ddb.S(string(s)))
	u.setTo(attrRank, ddb.N(int64(s.Rank())))
	if s.Open() {
		u.setTo(OpenAttribute, ddb.S(string(s)))
	} else {
		u.remove = append(u.remove, u.name(OpenAttribute))
	}
}

func (u *update) expression() string {
	e := "SET " + strings.Join(u.set, ", ")
	if len(u.remove) > 0 {
		e += " REMOVE " + strings.Join(u.remove, ", ")
	}
	return e
}

func (u *update) item(table string, key map[string]types.AttributeValue, cond string) *types.Update {
	return &types.Update{
		TableName:                           aws.String(table),
		Key:                                 key,
		UpdateExpression:                    aws.String(u.expression()),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            u.names,
		ExpressionAttributeValues:           u.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// reserveItem returns the order's write in Reserve's transaction: o, Created with its units
// Held. A new order (fresh, the first attempt) is a Put on condition that it is absent: the
// whole item, no update expression for DynamoDB to parse. A retake is an Update on condition
// that the stored order is Created with its units Released, or Abandoned, for the same
// purchase; CreatedAt and ProviderKey are written with if_not_exists, so it keeps the stored
// ones, and it drops the intent and refunds of the attempt it replaces.
func (s *DynamoStore) reserveItem(o Order, fresh bool) types.TransactWriteItem {
	if fresh {
		return types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: orderItem(o),
			ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}
	}
	u := newUpdate()
	u.setTo(attrCart, ddb.S(o.CartID))
	u.setTo(attrAmount, ddb.N(o.Amount))
	u.setTo(attrCurr, ddb.S(o.Currency))
	u.status(Created)
	u.setTo(UpdatedAttribute, ddb.S(formatTime(o.UpdatedAt)))
	u.setString(attrEmail, o.CustomerEmail)
	u.setString(attrOwner, o.Owner)
	u.setString(attrMethod, o.PaymentMethod)
	for a, v := range unitAttributes(o) {
		u.setTo(a, v)
	}
	for a, v := range map[string]string{attrCreated: formatTime(o.CreatedAt), attrProvKey: o.ProviderKey} {
		u.set = append(u.set, u.name(a)+" = if_not_exists("+u.name(a)+", "+u.value(a, ddb.S(v))+")")
	}
	u.remove = append(u.remove, u.name(attrIntent), u.name(attrRefunded), u.name(attrReason))
	cond := fmt.Sprintf("attribute_not_exists(#pk) OR (#purchase = :purchase AND ((#status = :status AND #units = %s) OR #status = %s))",
		u.value("released", ddb.S(string(Released))), u.value("abandoned", ddb.S(string(Abandoned))))
	return types.TransactWriteItem{Update: u.item(s.table, s.key(o.ID), cond)}
}

// Reserve implements Store: one TransactWriteItems of the order and a conditional Update per
// draw. A failed condition on a shard tells its units (ALL_OLD), and the next round plans
// around it; on the order, the stored order tells a retry (nothing to take) from a conflict.
func (s *DynamoStore) Reserve(ctx context.Context, o Order, shards map[string]int) (Order, error) {
	if err := checkReserve(o, shards); err != nil {
		return Order{}, err
	}
	if s.stock == "" {
		return Order{}, fmt.Errorf("orders: reserve %s: the store has no stock table (WithStock)", o.ID)
	}
	o = normalize(o)
	o.Status, o.Units, o.PaymentIntentID, o.AmountRefunded, o.RefundReason = Created, Held, "", 0, ""
	o.Lines = withShards(o.Lines, shards)
	known, fresh := stock.Known{}, true
	var prev Order // the stored order a retake writes over: it keeps its CreatedAt and provider key
	for attempt := 0; attempt < maxReserveAttempts; attempt++ {
		draws, short := stock.Plan(o.ID, needs(o.Lines), known)
		if short != nil {
			return Order{}, shortOf(short, o.Lines, known)
		}
		o.Draws = draws
		items := []types.TransactWriteItem{s.reserveItem(o, fresh)}
		for _, d := range draws {
			items = append(items, stock.Take(s.stock, d))
		}
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			if !fresh { // as stored: the retake kept these (if_not_exists, or untouched)
				o.CreatedAt, o.ProviderKeyAt = prev.CreatedAt, prev.ProviderKeyAt
				if prev.ProviderKey != "" {
					o.ProviderKey = prev.ProviderKey
				}
			}
			return o, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return Order{}, fmt.Errorf("orders: reserve %s: %w", o.ID, err)
		}
		conflict := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i > 0 {
					units, _ := stock.UnitsOf(r.Item) // an absent shard holds none
					known[draws[i-1].Key()] = units
					continue
				}
				old, err := s.stored(ctx, o.ID, r.Item)
				switch {
				case err != nil:
					return Order{}, err
				case reserved(old, o):
					return old, nil
				case !retakable(old, o):
					return old, fmt.Errorf("%w: reserve %s: order is %s with units %q, or was made for another purchase", ErrConflict, o.ID, old.Status, old.Units)
				}
				prev = old
				if fresh {
					fresh = false // a stored order to retake: the Update, at once
					continue
				}
				conflict = true // it changed between the write and the read: try again
			case "TransactionConflict":
				conflict = true
			}
		}
		if conflict {
			if err := ddb.Backoff(ctx, attempt); err != nil {
				return Order{}, err
			}
		}
	}
	return Order{}, fmt.Errorf("orders: reserve %s: no plan held after %d attempts", o.ID, maxReserveAttempts)
}

// stored returns the order of a failed condition's item (ALL_OLD), reading it when the
// emulator did not return it.
func (s *DynamoStore) stored(ctx context.Context, id string, item map[string]types.AttributeValue) (Order, error) {
	if len(item) > 0 {
		return itemOrder(item)
	}
	return s.Get(ctx, id)
}

// unitsWrites returns the items that move o's draws with its update: put back (release) or
// taken (retake), and adds to u and cond what the order's units must be and become.
func (s *DynamoStore) unitsWrites(u *update, cond *string, o Order, e effect) []types.TransactWriteItem {
	var items []types.TransactWriteItem
	held, released := ddb.S(string(Held)), ddb.S(string(Released))
	switch e {
	case release:
		*cond += " AND " + u.name(attrUnits) + " = " + u.value("held", held)
		u.setTo(attrUnits, released)
		for _, d := range o.Draws {
			items = append(items, stock.PutBack(s.stock, d))
		}
	case retake:
		*cond += " AND " + u.name(attrUnits) + " = " + u.value("released", released)
		u.setTo(attrUnits, held)
		draws, _ := attributevalue.Marshal(o.Draws)
		u.setTo(attrDraws, draws)
		for _, d := range o.Draws {
			items = append(items, stock.Take(s.stock, d))
		}
	}
	return items
}

// Release implements Store: one TransactWriteItems of the order (Created, units Held) and a
// put-back per draw.
func (s *DynamoStore) Release(ctx context.Context, o Order, now time.Time) error {
	u := newUpdate()
	u.setTo(UpdatedAttribute, ddb.S(formatTime(now)))
	cond := "attribute_exists(#pk) AND " + u.name(attrStatus) + " = " + u.value("created", ddb.S(string(Created)))
	items := append([]types.TransactWriteItem{{}}, s.unitsWrites(u, &cond, o, release)...)
	items[0] = types.TransactWriteItem{Update: u.item(s.table, s.key(o.ID), cond)}
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &tce) || len(tce.CancellationReasons) == 0:
			return fmt.Errorf("orders: release %s: %w", o.ID, err)
		case aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed":
			return nil // released already, or no longer Created: its units are where they belong
		case attempt >= 5:
			return fmt.Errorf("orders: release %s: %w", o.ID, err)
		}
		if err := ddb.Backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// Settle implements Store: types.TransactWriteItems, the order's Update, conditioned on the
// order existing with a rank at most to's, no other intent and its units not released, and
// for Failed of an order holding units, a put-back per draw (on condition they are held).
func (s *DynamoStore) Settle(o Order, to Status, intentID string, now time.Time) ([]any, error) {
	if err := checkSettle(o.ID, to); err != nil {
		return nil, err
	}
	u := newUpdate()
	u.status(to)
	u.setTo(UpdatedAttribute, ddb.S(formatTime(now)))
	cond := "attribute_exists(#pk) AND #status_rank <= :status_rank"
	if intentID != "" {
		u.setTo(attrIntent, ddb.S(intentID))
		cond += " AND (attribute_not_exists(#payment_intent_id) OR #payment_intent_id = :payment_intent_id)"
	}
	var items []types.TransactWriteItem
	if to == Failed && o.Units == Held {
		items = s.unitsWrites(u, &cond, o, release)
	} else {
		cond += " AND NOT (" + u.name(attrUnits) + " = " + u.value("released", ddb.S(string(Released))) + ")"
	}
	out := []any{types.TransactWriteItem{Update: u.item(s.table, s.key(o.ID), cond)}}
	for _, it := range items {
		out = append(out, it)
	}
	return out, nil
}
