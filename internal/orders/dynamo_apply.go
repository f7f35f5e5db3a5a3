package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/stock"
)

// Apply implements Store: one UpdateItem whose condition holds the rules of Change, so
// concurrent events cannot move an order backwards or apply another intent's outcome, and says
// that no units move. When the condition fails, the item returned with ALL_OLD (or a
// consistent read, on emulators that do not return it) tells an unknown order from a foreign
// intent from a change that was already made, and from one that moves units: that one is a
// TransactWriteItems of the same update, conditioned on the units' state, with a put-back or a
// take per draw.
func (s *DynamoStore) Apply(ctx context.Context, id string, c Change) (Applied, error) {
	if err := checkChange(id, c); err != nil {
		return Applied{}, err
	}
	var old *Order // as last seen; nil before the first failed condition
	known := stock.Known{}
	for attempt := 0; attempt < maxReserveAttempts; attempt++ {
		e := keep
		if old != nil {
			e = unitsEffect(*old, c.To)
		}
		var item map[string]types.AttributeValue
		var done bool
		var a Applied
		var err error
		switch e {
		case keep:
			a, item, done, err = s.applyUpdate(ctx, id, c, stillCond(c.To), false)
		case retake:
			o := *old
			draws, short := stock.Plan(o.ID, needs(o.Lines), known)
			if short != nil {
				// The units are gone: record the payment all the same (the money moved), its
				// units still released; the caller refunds it.
				a, item, done, err = s.applyUpdate(ctx, id, c, "#units = :released", true)
				a.Unstocked = a.Changed
				break
			}
			o.Draws = draws
			a, item, done, err = s.applyUnits(ctx, id, c, o, e, known)
		default:
			a, item, done, err = s.applyUnits(ctx, id, c, *old, e, known)
		}
		if done || err != nil {
			return a, err
		}
		if item == nil && old != nil {
			if err := ctx.Err(); err != nil {
				return Applied{}, err
			}
			continue // a shard was short, or a transaction conflicted: plan again
		}
		o, err := s.stored(ctx, id, item)
		switch {
		case err != nil:
			return Applied{}, err // ErrNotFound included
		case !ownIntent(o, c):
			return Applied{Order: o}, fmt.Errorf("%w: order %s has intent %q, the change %q", ErrForeignIntent, id, o.PaymentIntentID, c.IntentID)
		case !applies(o, c):
			return Applied{Order: o}, nil
		}
		old = &o // it moves units, or changed between the write and the read: try again
	}
	return Applied{}, fmt.Errorf("orders: apply %s: condition failed on an order it applies to", id)
}

// stillCond returns the condition that c moves no units: none are held when it puts them back,
// none released when it takes them again.
func stillCond(to Status) string {
	switch to {
	case Failed, Abandoned:
		return "NOT (#units = :held)"
	case Paid:
		return "NOT (#units = :released)"
	}
	return ""
}

// applyUpdate applies c with one UpdateItem on the extra condition unitsCond (names #units,
// values :held and :released). unstocked records a payment whose units are gone. done reports
// success; a failed condition returns the stored item (ALL_OLD, possibly empty).
func (s *DynamoStore) applyUpdate(ctx context.Context, id string, c Change, unitsCond string, unstocked bool) (a Applied, item map[string]types.AttributeValue, done bool, err error) {
	u, cond := s.changeUpdate(c)
	if unstocked {
		// Paid without its units: it stays in the open index, under created, so the
		// reconciler finds it and refunds it (Store.Stuck).
		u.remove = slices.DeleteFunc(u.remove, func(a string) bool { return a == "#"+OpenAttribute })
		u.setTo(OpenAttribute, ddb.S(string(Created)))
	}
	if unitsCond != "" {
		u.name(attrUnits)
		for _, v := range []Units{Held, Released} {
			if strings.Contains(unitsCond, ":"+string(v)) {
				u.value(string(v), ddb.S(string(v)))
			}
		}
		cond += " AND " + unitsCond
	}
	in := ddb.UpdateInput(u.item(s.table, s.key(id), cond))
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.client.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		o, err := itemOrder(out.Attributes)
		return Applied{Changed: true, Order: o}, nil, true, err
	case errors.As(err, &ccf):
		if ccf.Item == nil {
			ccf.Item = map[string]types.AttributeValue{}
		}
		return Applied{}, ccf.Item, false, nil
	}
	return Applied{}, nil, false, fmt.Errorf("orders: apply %s: %w", id, err)
}

// applyUnits applies c to o (as stored, with the draws to move) with the units moved by e, in
// one TransactWriteItems. A failed condition on the order returns the stored item; on a shard
// (a take), it records the shard's units in known and returns a nil item, as does a conflict
// after its backoff.
func (s *DynamoStore) applyUnits(ctx context.Context, id string, c Change, o Order, e effect, known stock.Known) (a Applied, item map[string]types.AttributeValue, done bool, err error) {
	u, cond := s.changeUpdate(c)
	items := s.unitsWrites(u, &cond, o, e)
	items = append([]types.TransactWriteItem{{Update: u.item(s.table, s.key(id), cond)}}, items...)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	switch {
	case err == nil:
		o.Units = Held
		if e == release {
			o.Units = Released
		}
		return Applied{Changed: true, Order: changed(o, c)}, nil, true, nil
	case !errors.As(err, &tce):
		return Applied{}, nil, false, fmt.Errorf("orders: apply %s: %w", id, err)
	}
	for i, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			if i == 0 {
				if r.Item == nil {
					r.Item = map[string]types.AttributeValue{}
				}
				return Applied{}, r.Item, false, nil
			}
			units, _ := stock.UnitsOf(r.Item)
			known[o.Draws[i-1].Key()] = units
		case "TransactionConflict":
			if err := ddb.Backoff(ctx, len(known)); err != nil {
				return Applied{}, nil, false, err
			}
		}
	}
	return Applied{}, nil, false, nil
}

// changeUpdate returns the update and condition of c, without the units.
func (s *DynamoStore) changeUpdate(c Change) (*update, string) {
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
		if c.Reason != "" {
			u.setTo(attrReason, ddb.S(c.Reason))
		}
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
			cond += " AND #status_rank <= " + u.value("open_rank", ddb.N(int64(RequiresAction.Rank()))) // Status.Open
		}
	}
	return u, cond
}

// Stuck implements Store: one Query of OpenIndex per open status (eventually consistent, as
// every index read), created ones first.
func (s *DynamoStore) Stuck(ctx context.Context, before time.Time, limit int) ([]Order, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Order
	for _, st := range []Status{Created, Pending, RequiresAction} { // created first: see Store.Stuck
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
