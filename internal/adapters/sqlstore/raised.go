package sqlstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
)

// SQLSTATEs that the Postgres functions of the schema raise on purpose, each with the facts of
// the refusal in the error's DETAIL.
const (
	pgStockShort   = "WX001" // reserve_stock: DETAIL is the product's id
	pgStockMissing = "WX002" // reserve_stock: DETAIL is the product's id
	pgUnpaidCapped = "WX003" // admit_unpaid: DETAIL is unpaidCapDetail's fields
	pgRowChanged   = "WX004" // expect_one_row: DETAIL names the row (only an order's row uses it)
)

// unpaidCapDetail is admit_unpaid's DETAIL: the orders and units held, the units the order adds,
// and the cap's two bounds.
const unpaidCapDetail = "%d %d %d %d %d"

// raisedFault turns what a function of the schema raised (when called, or with the COMMIT it
// travelled with) into the domain's error; other errors are returned as they are.
func raisedFault(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case pgStockShort:
		return app.ShortOf(pgErr.Detail)
	case pgStockMissing:
		return catalog.ErrNotFound.WithMessage("product %q does not exist", pgErr.Detail)
	case pgUnpaidCapped:
		return unpaidRefusal(pgErr.Detail)
	case pgRowChanged:
		return errVersionConflict.Wrap(err)
	}
	return err
}

// unpaidRefusal rebuilds the cap's refusal from admit_unpaid's DETAIL.
func unpaidRefusal(detail string) error {
	var held app.UnpaidHolding
	var adding int64
	var limit app.UnpaidCap
	if _, err := fmt.Sscanf(detail, unpaidCapDetail, &held.Orders, &held.Units, &adding, &limit.MaxOrders, &limit.MaxUnits); err != nil {
		return app.ErrUnpaidReservationsExceeded
	}
	if refusal := limit.Refusal(held, adding); refusal != nil {
		return refusal
	}
	return app.ErrUnpaidReservationsExceeded
}
