package orders

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
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

// status sets the status, its rank and the open index's key (removed outside Created/Pending).
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

// Begin implements Store: the write is a types.TransactWriteItem holding one Update, conditioned
// on the order being absent, or Created or Abandoned with the same cart, amount, currency,
// e-mail and payment method. CreatedAt and ProviderKey are written with
// if_not_exists, so a reset keeps the stored ones; a reset also drops the intent and refunds
// of the attempt it replaces.
func (s *DynamoStore) Begin(o Order) (any, error) {
	if err := checkBegin(o); err != nil {
		return nil, err
	}
	o = normalize(o)
	u := newUpdate()
	u.setTo(attrCart, ddb.S(o.CartID))
	u.setTo(attrAmount, ddb.N(o.Amount))
	u.setTo(attrCurr, ddb.S(o.Currency))
	u.status(Created)
	u.setTo(UpdatedAttribute, ddb.S(formatTime(o.UpdatedAt)))
	u.setString(attrEmail, o.CustomerEmail)
	u.setString(attrOwner, o.Owner)
	u.setString(attrMethod, o.PaymentMethod)
	for a, v := range map[string]string{attrCreated: formatTime(o.CreatedAt), attrProvKey: o.ProviderKey} {
		u.set = append(u.set, u.name(a)+" = if_not_exists("+u.name(a)+", "+u.value(a, ddb.S(v))+")")
	}
	u.remove = append(u.remove, u.name(attrIntent), u.name(attrRefunded))
	u.value("abandoned", ddb.S(string(Abandoned)))
	// The same purchase only: a created order asked for other parameters is a key reused for
	// another request (its record released after a failure), and must keep its own, since a
	// charge for it may exist.
	same := []string{"#cart_id = :cart_id", "#amount = :amount", "#currency = :currency"}
	for _, a := range []string{attrEmail, attrMethod} {
		if _, set := u.values[":"+a]; set {
			same = append(same, u.name(a)+" = :"+a)
		} else {
			same = append(same, "attribute_not_exists("+u.name(a)+")")
		}
	}
	cond := "attribute_not_exists(#pk) OR ((#status = :status OR #status = :abandoned) AND " + strings.Join(same, " AND ") + ")"
	return types.TransactWriteItem{Update: u.item(s.table, s.key(o.ID), cond)}, nil
}

// Settle implements Store: the write is a types.TransactWriteItem holding one Update,
// conditioned on the order existing with a rank at most to's and no other intent.
func (s *DynamoStore) Settle(id string, to Status, intentID string, now time.Time) (any, error) {
	if err := checkSettle(id, to); err != nil {
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
	return types.TransactWriteItem{Update: u.item(s.table, s.key(id), cond)}, nil
}
