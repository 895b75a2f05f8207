package sqlstore

import (
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Rows mirror the tables of the core migration. Times are written in UTC and read back as UTC.

type productRow struct {
	bun.BaseModel `bun:"table:products,alias:p"`

	ID         string    `bun:"id,pk"`
	SellerID   string    `bun:"seller_id"`
	Title      string    `bun:"title"`
	PriceMinor int64     `bun:"price_minor"`
	Currency   string    `bun:"currency"`
	Stock      int64     `bun:"stock"`
	PhotoURL   string    `bun:"photo_url"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func productToRow(p *catalog.Product) *productRow {
	return &productRow{ID: p.ID(), SellerID: p.SellerID(), Title: p.Title(),
		PriceMinor: p.Price().Minor(), Currency: p.Price().Currency().Code(), Stock: p.Stock(),
		PhotoURL: p.PhotoURL(), CreatedAt: p.CreatedAt().UTC(), UpdatedAt: p.UpdatedAt().UTC()}
}

func (r *productRow) toDomain() (*catalog.Product, error) {
	price, err := amount(r.PriceMinor, r.Currency)
	if err != nil {
		return nil, fmt.Errorf("product %s: %w", r.ID, err)
	}
	return catalog.Restore(r.ID, r.SellerID, r.Title, price, r.Stock, r.PhotoURL,
		r.CreatedAt.UTC(), r.UpdatedAt.UTC()), nil
}

type orderRow struct {
	bun.BaseModel `bun:"table:orders,alias:o"`

	ID                   string `bun:"id,pk"`
	Number               string `bun:"number"`
	CustomerID           string `bun:"customer_id"`
	Status               string `bun:"status"`
	Currency             string `bun:"currency"`
	TotalMinor           int64  `bun:"total_minor"`
	DeliveryFeeMinor     int64  `bun:"delivery_fee_minor"`
	RecipientFirstName   string `bun:"recipient_first_name"`
	RecipientLastName    string `bun:"recipient_last_name"`
	RecipientMiddleName  string `bun:"recipient_middle_name"`
	RecipientPhone       string `bun:"recipient_phone"`
	RecipientEmail       string `bun:"recipient_email"`
	DeliveryMethod       string `bun:"delivery_method"`
	DeliveryCity         string `bun:"delivery_city"`
	DeliveryStreet       string `bun:"delivery_street"`
	DeliveryHouseNumber  string `bun:"delivery_house_number"`
	DeliveryBranchNumber string `bun:"delivery_branch_number"`
	// DisputeStatus is NULL while the order has no dispute.
	DisputeStatus      string    `bun:"dispute_status,nullzero"`
	DisputeReason      string    `bun:"dispute_reason"`
	DisputeAmountMinor int64     `bun:"dispute_amount_minor"`
	DisputeOpenedAt    time.Time `bun:"dispute_opened_at,nullzero"`
	DisputeClosed      bool      `bun:"dispute_closed"`
	StockReturned      bool      `bun:"stock_returned"`
	Version            int64     `bun:"version"`
	CreatedAt          time.Time `bun:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at"`

	Items    []*orderItemRow `bun:"rel:has-many,join:id=order_id"`
	Payment  *paymentRow     `bun:"rel:has-one,join:id=order_id"`
	Refunds  []*refundRow    `bun:"rel:has-many,join:id=order_id"`
	Timeline []*timelineRow  `bun:"rel:has-many,join:id=order_id"`
}

type orderItemRow struct {
	bun.BaseModel `bun:"table:order_items,alias:oi"`

	OrderID        string `bun:"order_id,pk"`
	LineNo         int    `bun:"line_no,pk"`
	ProductID      string `bun:"product_id"`
	Title          string `bun:"title"`
	SellerID       string `bun:"seller_id"`
	UnitPriceMinor int64  `bun:"unit_price_minor"`
	Quantity       int64  `bun:"quantity"`
}

type paymentRow struct {
	bun.BaseModel `bun:"table:payments,alias:pay"`

	ID             string    `bun:"id,pk"`
	OrderID        string    `bun:"order_id"`
	Method         string    `bun:"method"`
	Provider       string    `bun:"provider"`
	IntentID       string    `bun:"intent_id,nullzero"`
	AmountMinor    int64     `bun:"amount_minor"`
	Currency       string    `bun:"currency"`
	Status         string    `bun:"status"`
	FailureCode    string    `bun:"failure_code"`
	FailureMessage string    `bun:"failure_message"`
	PaidAt         time.Time `bun:"paid_at,nullzero"`
}

type refundRow struct {
	bun.BaseModel `bun:"table:refunds,alias:rf"`

	ID               string    `bun:"id,pk"`
	OrderID          string    `bun:"order_id"`
	Seq              int       `bun:"seq"`
	AmountMinor      int64     `bun:"amount_minor"`
	Status           string    `bun:"status"`
	Reason           string    `bun:"reason"`
	Restock          bool      `bun:"restock"`
	ProviderRefundID string    `bun:"provider_refund_id"`
	External         bool      `bun:"external"`
	CreatedAt        time.Time `bun:"created_at"`
}

type timelineRow struct {
	bun.BaseModel `bun:"table:order_timeline,alias:tl"`

	OrderID string    `bun:"order_id,pk"`
	Seq     int       `bun:"seq,pk"`
	At      time.Time `bun:"at"`
	Type    string    `bun:"type"`
	From    string    `bun:"from_status"`
	To      string    `bun:"to_status"`
	Cause   string    `bun:"cause"`
}

// orderToRows splits an order into its rows. Timeline rows are only the changes not yet stored,
// numbered after the stored ones.
func orderToRows(o *order.Order) (*orderRow, []*timelineRow) {
	s := o.Snapshot()
	row := &orderRow{ID: s.ID, Number: s.Number, CustomerID: s.CustomerID, Status: string(s.Status),
		Currency: s.Total.Currency().Code(), TotalMinor: s.Total.Minor(), DeliveryFeeMinor: s.DeliveryFee.Minor(),
		RecipientFirstName: s.Recipient.FirstName, RecipientLastName: s.Recipient.LastName,
		RecipientMiddleName: s.Recipient.MiddleName, RecipientPhone: s.Recipient.PhoneNumber,
		RecipientEmail: s.Recipient.Email, DeliveryMethod: string(s.Delivery.Method),
		DeliveryCity: s.Delivery.City, DeliveryStreet: s.Delivery.Street,
		DeliveryHouseNumber: s.Delivery.HouseNumber, DeliveryBranchNumber: s.Delivery.BranchNumber,
		DisputeClosed: s.DisputeClosed, StockReturned: s.StockReturned,
		Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(),
		Payment: paymentToRow(s.ID, s.Payment)}
	if d := s.Dispute; d != nil {
		row.DisputeStatus, row.DisputeReason = d.Status, d.Reason
		row.DisputeAmountMinor, row.DisputeOpenedAt = d.Amount.Minor(), d.OpenedAt.UTC()
	}
	for i, rf := range s.Refunds {
		row.Refunds = append(row.Refunds, &refundRow{ID: rf.ID, OrderID: s.ID, Seq: i,
			AmountMinor: rf.Amount.Minor(), Status: string(rf.Status), Reason: rf.Reason, Restock: rf.Restock,
			ProviderRefundID: rf.ProviderRefundID, External: rf.External, CreatedAt: rf.CreatedAt.UTC()})
	}
	for i, it := range s.Items {
		row.Items = append(row.Items, &orderItemRow{OrderID: s.ID, LineNo: i, ProductID: it.ProductID,
			Title: it.Title, SellerID: it.SellerID, UnitPriceMinor: it.UnitPrice.Minor(), Quantity: it.Quantity})
	}
	fresh := o.NewChanges()
	first := len(s.Timeline) - len(fresh)
	changes := make([]*timelineRow, 0, len(fresh))
	for i, c := range fresh {
		changes = append(changes, &timelineRow{OrderID: s.ID, Seq: first + i, At: c.At.UTC(),
			Type: string(c.Type), From: c.From, To: c.To, Cause: string(c.Cause)})
	}
	return row, changes
}

func paymentToRow(orderID string, p payment.Snapshot) *paymentRow {
	return &paymentRow{ID: p.ID, OrderID: orderID, Method: string(p.Method), Provider: p.Provider,
		IntentID: p.IntentID, AmountMinor: p.Amount.Minor(), Currency: p.Amount.Currency().Code(),
		Status: string(p.Status), FailureCode: p.FailureCode, FailureMessage: p.FailureMessage,
		PaidAt: p.PaidAt.UTC()}
}

func (r *orderRow) toDomain() (*order.Order, error) {
	s, err := r.snapshot()
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", r.ID, err)
	}
	return order.Restore(s), nil
}

func (r *orderRow) snapshot() (order.Snapshot, error) {
	if r.Payment == nil {
		return order.Snapshot{}, fmt.Errorf("no payment row")
	}
	fee, err := amount(r.DeliveryFeeMinor, r.Currency)
	if err != nil {
		return order.Snapshot{}, err
	}
	total, err := amount(r.TotalMinor, r.Currency)
	if err != nil {
		return order.Snapshot{}, err
	}
	items, err := r.items()
	if err != nil {
		return order.Snapshot{}, err
	}
	pay, err := r.Payment.toSnapshot()
	if err != nil {
		return order.Snapshot{}, err
	}
	refunds, err := r.refunds()
	if err != nil {
		return order.Snapshot{}, err
	}
	dispute, err := r.dispute()
	if err != nil {
		return order.Snapshot{}, err
	}
	return order.Snapshot{ID: r.ID, Number: r.Number, CustomerID: r.CustomerID, Items: items,
		Recipient: order.Recipient{FirstName: r.RecipientFirstName, LastName: r.RecipientLastName,
			MiddleName: r.RecipientMiddleName, PhoneNumber: r.RecipientPhone, Email: r.RecipientEmail},
		Delivery: order.Delivery{Method: order.DeliveryMethod(r.DeliveryMethod), City: r.DeliveryCity,
			Street: r.DeliveryStreet, HouseNumber: r.DeliveryHouseNumber, BranchNumber: r.DeliveryBranchNumber},
		DeliveryFee: fee, Total: total, Status: order.Status(r.Status), Payment: pay,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
		Timeline: r.timeline(), Refunds: refunds, Dispute: dispute, DisputeClosed: r.DisputeClosed,
		StockReturned: r.StockReturned}, nil
}

func (r *orderRow) refunds() ([]order.Refund, error) {
	var refunds []order.Refund // nil when there are none, as in a fresh order
	for _, rf := range r.Refunds {
		amt, err := amount(rf.AmountMinor, r.Currency)
		if err != nil {
			return nil, fmt.Errorf("refund %s: %w", rf.ID, err)
		}
		refunds = append(refunds, order.Refund{ID: rf.ID, Amount: amt, Status: order.RefundStatus(rf.Status),
			Reason: rf.Reason, Restock: rf.Restock, ProviderRefundID: rf.ProviderRefundID,
			External: rf.External, CreatedAt: rf.CreatedAt.UTC()})
	}
	return refunds, nil
}

func (r *orderRow) dispute() (*order.Dispute, error) {
	if r.DisputeStatus == "" {
		return nil, nil
	}
	amt, err := amount(r.DisputeAmountMinor, r.Currency)
	if err != nil {
		return nil, fmt.Errorf("dispute: %w", err)
	}
	return &order.Dispute{Status: r.DisputeStatus, Reason: r.DisputeReason, Amount: amt,
		OpenedAt: r.DisputeOpenedAt.UTC()}, nil
}

// items prices the lines in the order's currency: an order never mixes currencies.
func (r *orderRow) items() ([]order.Item, error) {
	items := make([]order.Item, 0, len(r.Items))
	for _, it := range r.Items {
		price, err := amount(it.UnitPriceMinor, r.Currency)
		if err != nil {
			return nil, err
		}
		items = append(items, order.Item{ProductID: it.ProductID, Title: it.Title, SellerID: it.SellerID,
			UnitPrice: price, Quantity: it.Quantity})
	}
	return items, nil
}

func (r *orderRow) timeline() []order.Change {
	changes := make([]order.Change, 0, len(r.Timeline))
	for _, c := range r.Timeline {
		changes = append(changes, order.Change{At: c.At.UTC(), Type: order.ChangeType(c.Type),
			From: c.From, To: c.To, Cause: order.Cause(c.Cause)})
	}
	return changes
}

func (r *paymentRow) toSnapshot() (payment.Snapshot, error) {
	amt, err := amount(r.AmountMinor, r.Currency)
	if err != nil {
		return payment.Snapshot{}, fmt.Errorf("payment %s: %w", r.ID, err)
	}
	return payment.Snapshot{ID: r.ID, Provider: r.Provider, IntentID: r.IntentID,
		Method: payment.Method(r.Method), Amount: amt, Status: payment.Status(r.Status),
		FailureCode: r.FailureCode, FailureMessage: r.FailureMessage, PaidAt: r.PaidAt.UTC()}, nil
}

// amount rebuilds stored money, refusing what the domain would refuse (an unknown currency, a
// negative amount) rather than serving a corrupted row.
func amount(minor int64, code string) (money.Money, error) {
	cur, err := money.ParseCurrency(code)
	if err != nil {
		return money.Money{}, err
	}
	return money.New(minor, cur)
}
