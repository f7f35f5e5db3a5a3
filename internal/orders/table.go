package orders

import "github.com/checkout-idem/checkout/internal/ddb"

// PartitionKey is the orders table's key attribute; template.yaml declares the same name.
const PartitionKey = "order_id"

// Table returns the definition of an orders table named name (no TTL: orders are kept).
func Table(name string) ddb.Table {
	return ddb.Table{Name: name, PartitionKey: PartitionKey}
}
