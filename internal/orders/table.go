package orders

import "github.com/checkout-idem/checkout/internal/ddb"

// Key and index names of the orders table; template.yaml declares the same, and
// internal/samtemplate's test keeps them in agreement.
const (
	PartitionKey = "order_id"
	// OpenIndex is the sparse global secondary index Stuck queries: only open orders (Created,
	// Pending, RequiresAction: Status.Open) carry its partition key OpenAttribute (their
	// status), sorted by UpdatedAttribute.
	OpenIndex        = "open-orders"
	OpenAttribute    = "open_status"
	UpdatedAttribute = "updated_at" // fixed-width RFC 3339 UTC, so it sorts as it compares
)

// Table returns the definition of an orders table named name (no TTL: orders are kept).
func Table(name string) ddb.Table {
	return ddb.Table{Name: name, PartitionKey: PartitionKey, Indexes: []ddb.Index{
		{Name: OpenIndex, PartitionKey: OpenAttribute, SortKey: UpdatedAttribute},
	}}
}
