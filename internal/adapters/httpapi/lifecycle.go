package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
)

// Faults of the lifecycle endpoints' requests.
var (
	errEventStatus = fault.Invalid("webhook_status_invalid", "status must be pending, failed or processed")
)

// answerOrder renders the order after a state change, exactly as GET /api/orders/{id} shows it.
func (s *Server) answerOrder(c *gin.Context, o *order.Order, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	respond(s, c, orderAnswer, o)
}

// orderAnswer is the view of an order a state change answers with (and an Idempotency-Key keeps).
func orderAnswer(o *order.Order) (int, any, error) {
	view, err := orderView(o)
	return http.StatusOK, view, err
}

// cancelOrder serves POST /api/orders/{orderId}/cancel: the owner while unpaid, or an admin
// (who refunds a paid order). Cancelling a cancelled order answers it again.
func (s *Server) cancelOrder(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.fail(c, err)
		return
	}
	answerWith(c, orderAnswer)
	o, err := s.app.Cancel.Handle(c.Request.Context(), app.CancelOrder{Actor: actorOf(c), OrderID: c.Param("orderId")})
	s.answerOrder(c, o, err)
}

// shipOrder serves POST /api/orders/{orderId}/ship (admin, or the seller of every item).
func (s *Server) shipOrder(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.fail(c, err)
		return
	}
	answerWith(c, orderAnswer)
	o, err := s.app.Fulfillment.Ship(c.Request.Context(), actorOf(c), c.Param("orderId"))
	s.answerOrder(c, o, err)
}

// deliverOrder serves POST /api/orders/{orderId}/deliver (admin, or the seller of every item).
func (s *Server) deliverOrder(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.fail(c, err)
		return
	}
	answerWith(c, orderAnswer)
	o, err := s.app.Fulfillment.Deliver(c.Request.Context(), actorOf(c), c.Param("orderId"))
	s.answerOrder(c, o, err)
}

// noBody accepts an empty body or an empty JSON object: the state-change POSTs take no input,
// but clients that always send {} are not punished for it.
func noBody(c *gin.Context) error {
	if len(bytes.TrimSpace(body(c))) == 0 {
		return nil
	}
	var none struct{}
	return decodeJSON(c, &none)
}

// refundRequest is the body of POST /api/orders/{orderId}/refunds. Amount stays raw so that it
// must be a JSON number (a quoted "10" is refused, not silently accepted) and stays exact.
type refundRequest struct {
	Amount  json.RawMessage `json:"amount"`
	Reason  *string         `json:"reason"`
	Restock *bool           `json:"restock"`
}

// refundAnswerJSON is the refund POST's answer.
type refundAnswerJSON struct {
	ID        string      `json:"id"`
	OrderID   string      `json:"orderId"`
	Amount    json.Number `json:"amount"`
	Currency  string      `json:"currency"`
	Status    string      `json:"status"`
	Reason    *string     `json:"reason"`
	Restock   bool        `json:"restock"`
	CreatedAt string      `json:"createdAt"`
}

// decodeRefund turns the body (which may be empty: a full refund) into the command.
func decodeRefund(c *gin.Context) (app.RefundOrder, error) {
	cmd := app.RefundOrder{Actor: actorOf(c), OrderID: c.Param("orderId")}
	if len(bytes.TrimSpace(body(c))) == 0 {
		return cmd, nil
	}
	var req refundRequest
	if err := decodeJSON(c, &req); err != nil {
		return cmd, err
	}
	amount, err := jsonAmount(req.Amount, "amount")
	if err != nil {
		return cmd, err
	}
	cmd.Amount = amount
	if req.Reason != nil {
		cmd.Reason = *req.Reason
	}
	if req.Restock != nil {
		cmd.Restock = *req.Restock
	}
	return cmd, nil
}

// jsonAmount reads an optional JSON number as its exact decimal text; absent or null is nil.
func jsonAmount(raw json.RawMessage, field string) (*string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return nil, errFieldType.WithMessage("field %q must be a JSON number", field)
	}
	text := string(raw)
	return &text, nil
}

// refundOrder serves POST /api/orders/{orderId}/refunds (admin): 201 with the refund. A refund
// the provider could not be reached for is booked and answered 503 refund_pending; the
// reconciler retries it with the same provider idempotency key. With an Idempotency-Key, the
// booking keeps the pending refund as the answer, so a retry never books a second one.
func (s *Server) refundOrder(c *gin.Context) {
	cmd, err := decodeRefund(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	view := func(r order.Refund) (int, any, error) {
		return http.StatusCreated, refundAnswerJSON{ID: r.ID, OrderID: cmd.OrderID, Amount: amount(r.Amount),
			Currency: r.Amount.Currency().Code(), Status: string(r.Status), Reason: nullable(r.Reason),
			Restock: r.Restock, CreatedAt: timestamp(r.CreatedAt)}, nil
	}
	answerWith(c, view)
	r, err := s.app.Refunds.Handle(c.Request.Context(), cmd)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/orders/"+cmd.OrderID)
	respond(s, c, view, r)
}

// webhookEventJSON is one inbox event in the admin's list. nextAttemptAt is when a pending or
// failed event is due again (null when due now).
type webhookEventJSON struct {
	ID            string  `json:"id"`
	Type          string  `json:"type"`
	IntentID      *string `json:"intentId"`
	Status        string  `json:"status"`
	ReceivedAt    string  `json:"receivedAt"`
	ProcessedAt   *string `json:"processedAt"`
	NextAttemptAt *string `json:"nextAttemptAt"`
	Problem       *string `json:"problem"`
	Attempts      int     `json:"attempts"`
}

func webhookEventView(e app.InboxEntry) webhookEventJSON {
	return webhookEventJSON{ID: e.Event.ID, Type: string(e.Event.Type), IntentID: nullable(e.Event.IntentID),
		Status: string(e.Status()), ReceivedAt: timestamp(e.ReceivedAt), ProcessedAt: optionalTime(e.ProcessedAt),
		NextAttemptAt: optionalTime(e.LockedUntil), Problem: nullable(e.Problem), Attempts: e.Attempts}
}

// optionalTime renders the zero time as null.
func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return nullable(timestamp(t))
}

// listWebhookEvents serves GET /api/admin/webhook-events?status=pending|failed|processed (admin):
// the provider events the inbox holds, oldest first, all states when status is absent.
func (s *Server) listWebhookEvents(c *gin.Context) {
	status := app.InboxStatus(c.Query("status"))
	switch status {
	case "", app.InboxPending, app.InboxFailed, app.InboxProcessed:
	default:
		s.fail(c, errEventStatus)
		return
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, next, err := s.app.Webhooks.List(c.Request.Context(), actorOf(c),
		app.InboxQuery{Status: status, After: cursor, Limit: limit})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, newPage(entries, webhookEventView, next))
}

// replayWebhookEvent serves POST /api/admin/webhook-events/{id}/replay (admin): processes the
// stored event now. A processed event stays a no-op; a failure answers the processing error.
func (s *Server) replayWebhookEvent(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.fail(c, err)
		return
	}
	view := func(r app.ReplayedEvent) (int, any, error) {
		return http.StatusOK, gin.H{"id": r.ID, "replayed": true}, nil
	}
	answerWith(c, view)
	r, err := s.app.Webhooks.Replay(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	respond(s, c, view, r)
}
