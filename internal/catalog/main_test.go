package catalog_test

import (
	"testing"

	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
