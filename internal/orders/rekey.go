package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// Rekey implements Store with one UpdateItem conditioned on the order being Created with key from.
func (s *DynamoStore) Rekey(ctx context.Context, id, from, to string, now time.Time) error {
	if id == "" || from == "" || to == "" {
		return fmt.Errorf("orders: rekey %q: empty id or key", id)
	}
	u := newUpdate()
	u.setTo(attrProvKey, ddb.S(to))
	u.setTo(attrProvKeyAt, ddb.S(formatTime(now)))
	cond := fmt.Sprintf("attribute_exists(#pk) AND %s = %s AND %s = %s",
		u.name(attrStatus), u.value("created", ddb.S(string(Created))), u.name(attrProvKey), u.value("from", ddb.S(from)))
	_, err := s.client.UpdateItem(ctx, ddb.UpdateInput(u.item(s.table, s.key(id), cond)))
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		// Absent, or an emulator that does not return ALL_OLD: read it.
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("%w: rekey %s: not created with that key", ErrConflict, id)
	case errors.As(err, &ccf):
		return fmt.Errorf("%w: rekey %s: not created with that key", ErrConflict, id)
	case err != nil:
		return fmt.Errorf("orders: rekey %s: %w", id, err)
	}
	return nil
}

// Rekey implements Store.
func (s *MemoryStore) Rekey(_ context.Context, id, from, to string, now time.Time) error {
	if id == "" || from == "" || to == "" {
		return fmt.Errorf("orders: rekey %q: empty id or key", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	case o.Status != Created || o.ProviderKey != from:
		return fmt.Errorf("%w: rekey %s: not created with that key", ErrConflict, id)
	}
	o.ProviderKey, o.ProviderKeyAt = to, now.UTC()
	s.orders[id] = o
	return nil
}
