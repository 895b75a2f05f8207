package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wolfix/orders/internal/domain/catalog"
)

// StockLine is a quantity of one product, to reserve.
type StockLine struct {
	ProductID string
	Quantity  int64
}

// InProductOrder returns lines in the order Reserve takes them, ascending product id, with the
// lines of one product added up; it refuses a quantity that is not positive.
func InProductOrder(lines []StockLine) ([]StockLine, error) {
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b StockLine) int { return strings.Compare(a.ProductID, b.ProductID) })
	merged := make([]StockLine, 0, len(sorted))
	for _, l := range sorted {
		if l.Quantity <= 0 {
			return nil, fmt.Errorf("reserve %d of product %s: the quantity must be positive", l.Quantity, l.ProductID)
		}
		if n := len(merged); n > 0 && merged[n-1].ProductID == l.ProductID {
			merged[n-1].Quantity += l.Quantity
			continue
		}
		merged = append(merged, l)
	}
	return merged, nil
}

// ShortOf is catalog.ErrOutOfStock naming the product that cannot be served.
func ShortOf(productID string) error {
	return catalog.ErrOutOfStock.WithMessage("not enough units of %q are left", productID)
}
