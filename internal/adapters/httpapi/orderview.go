package httpapi

import (
	"encoding/json"

	"github.com/wolfix/orders/internal/domain/order"
)

// orderJSON is the order representation of DESIGN §3.
type orderJSON struct {
	orderSummaryJSON
	RefundedAmount json.Number    `json:"refundedAmount"`
	DeliveryFee    json.Number    `json:"deliveryFee"`
	Items          []itemJSON     `json:"items"`
	Recipient      recipientJSON  `json:"recipient"`
	Delivery       deliveryJSON   `json:"delivery"`
	Payment        paymentJSON    `json:"payment"`
	Refunds        []refundJSON   `json:"refunds"`
	Dispute        *disputeJSON   `json:"dispute"`
	Timeline       []timelineJSON `json:"timeline"`
}

// orderSummaryJSON is what GET /api/orders lists.
type orderSummaryJSON struct {
	ID            string      `json:"id"`
	Number        string      `json:"number"`
	Status        string      `json:"status"`
	PaymentStatus string      `json:"paymentStatus"`
	PaymentMethod string      `json:"paymentMethod"`
	TotalAmount   json.Number `json:"totalAmount"`
	Currency      string      `json:"currency"`
	CustomerID    string      `json:"customerId"`
	CreatedAt     string      `json:"createdAt"`
}

type itemJSON struct {
	ProductID string      `json:"productId"`
	Title     string      `json:"title"`
	UnitPrice json.Number `json:"unitPrice"`
	Quantity  int64       `json:"quantity"`
	SellerID  string      `json:"sellerId"`
}

// deliveryJSON is the delivery as checkout requests send it and order views show it.
type deliveryJSON struct {
	Method       string  `json:"method"`
	City         string  `json:"city"`
	Street       *string `json:"street"`
	HouseNumber  *string `json:"houseNumber"`
	BranchNumber *string `json:"branchNumber"`
}

type paymentJSON struct {
	Provider       string  `json:"provider"`
	IntentID       *string `json:"intentId"`
	Status         string  `json:"status"`
	FailureCode    *string `json:"failureCode"`
	FailureMessage *string `json:"failureMessage"`
}

type refundJSON struct {
	ID        string      `json:"id"`
	Amount    json.Number `json:"amount"`
	Status    string      `json:"status"`
	Reason    *string     `json:"reason"`
	Restock   bool        `json:"restock"`
	External  bool        `json:"external"`
	CreatedAt string      `json:"createdAt"`
}

type disputeJSON struct {
	Status   string      `json:"status"`
	Reason   string      `json:"reason"`
	Amount   json.Number `json:"amount"`
	OpenedAt string      `json:"openedAt"`
}

type timelineJSON struct {
	At    string  `json:"at"`
	Type  string  `json:"type"`
	From  *string `json:"from"`
	To    string  `json:"to"`
	Cause string  `json:"cause"`
}

func orderSummaryView(o *order.Order) orderSummaryJSON {
	p := o.Payment()
	return orderSummaryJSON{ID: o.ID(), Number: o.Number(), Status: string(o.Status()),
		PaymentStatus: string(p.Status()), PaymentMethod: string(p.Method()), TotalAmount: amount(o.Total()),
		Currency: o.Total().Currency().Code(), CustomerID: o.CustomerID(), CreatedAt: timestamp(o.CreatedAt())}
}

func orderView(o *order.Order) (orderJSON, error) {
	refunded, err := o.RefundedAmount()
	if err != nil {
		return orderJSON{}, err
	}
	p, r, d := o.Payment(), o.Recipient(), o.Delivery()
	view := orderJSON{
		orderSummaryJSON: orderSummaryView(o),
		RefundedAmount:   amount(refunded),
		DeliveryFee:      amount(o.DeliveryFee()),
		Recipient: recipientJSON{FirstName: r.FirstName, LastName: r.LastName, MiddleName: nullable(r.MiddleName),
			PhoneNumber: r.PhoneNumber, Email: r.Email},
		Delivery: deliveryJSON{Method: string(d.Method), City: d.City, Street: nullable(d.Street),
			HouseNumber: nullable(d.HouseNumber), BranchNumber: nullable(d.BranchNumber)},
		Payment: paymentJSON{Provider: p.Provider(), IntentID: nullable(p.IntentID()), Status: string(p.Status()),
			FailureCode: nullable(p.FailureCode()), FailureMessage: nullable(p.FailureMessage())},
		Items:    make([]itemJSON, 0, len(o.Items())),
		Refunds:  make([]refundJSON, 0, len(o.Refunds())),
		Timeline: make([]timelineJSON, 0, len(o.Timeline())),
	}
	for _, it := range o.Items() {
		view.Items = append(view.Items, itemJSON{ProductID: it.ProductID, Title: it.Title,
			UnitPrice: amount(it.UnitPrice), Quantity: it.Quantity, SellerID: it.SellerID})
	}
	for _, rf := range o.Refunds() {
		view.Refunds = append(view.Refunds, refundJSON{ID: rf.ID, Amount: amount(rf.Amount), Status: string(rf.Status),
			Reason: nullable(rf.Reason), Restock: rf.Restock, External: rf.External, CreatedAt: timestamp(rf.CreatedAt)})
	}
	if dp := o.Dispute(); dp != nil {
		view.Dispute = &disputeJSON{Status: dp.Status, Reason: dp.Reason, Amount: amount(dp.Amount), OpenedAt: timestamp(dp.OpenedAt)}
	}
	for _, ch := range o.Timeline() {
		view.Timeline = append(view.Timeline, timelineJSON{At: timestamp(ch.At), Type: string(ch.Type),
			From: nullable(ch.From), To: ch.To, Cause: string(ch.Cause)})
	}
	return view, nil
}
