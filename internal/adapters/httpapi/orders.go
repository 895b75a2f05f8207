package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// orderRequest is the body of both checkout POSTs. The payment method is not in it: the route
// decides. Neither is the customer: the token decides.
type orderRequest struct {
	Items     []itemRequest `json:"items"`
	Recipient recipientJSON `json:"recipient"`
	Delivery  deliveryJSON  `json:"delivery"`
}

type itemRequest struct {
	ProductID string      `json:"productId"`
	Quantity  json.Number `json:"quantity"`
}

type recipientJSON struct {
	FirstName   string  `json:"firstName"`
	LastName    string  `json:"lastName"`
	MiddleName  *string `json:"middleName"`
	PhoneNumber string  `json:"phoneNumber"`
	Email       string  `json:"email"`
}

// decodeOrder turns a checkout body into the command; every failure is a 4xx fault.
func decodeOrder(data []byte, actor app.Actor, method payment.Method) (app.PlaceOrder, error) {
	var req orderRequest
	if err := decodeStrict(data, &req); err != nil {
		return app.PlaceOrder{}, err
	}
	lines := make([]app.LineRequest, 0, len(req.Items))
	for _, it := range req.Items {
		qty, err := strconv.ParseInt(it.Quantity.String(), 10, 64)
		if err != nil {
			return app.PlaceOrder{}, order.ErrQuantityInvalid
		}
		lines = append(lines, app.LineRequest{ProductID: it.ProductID, Quantity: qty})
	}
	r, d := req.Recipient, req.Delivery
	return app.PlaceOrder{Actor: actor, Lines: lines, Method: method,
		Recipient: order.Recipient{FirstName: r.FirstName, LastName: r.LastName, MiddleName: deref(r.MiddleName),
			PhoneNumber: r.PhoneNumber, Email: r.Email},
		Delivery: order.Delivery{Method: order.DeliveryMethod(d.Method), City: d.City, Street: deref(d.Street),
			HouseNumber: deref(d.HouseNumber), BranchNumber: deref(d.BranchNumber)},
	}, nil
}

// placedJSON answers a checkout; clientSecret only for card orders. The seed's client reads
// {orderId, clientSecret, totalAmount}.
type placedJSON struct {
	OrderID      string      `json:"orderId"`
	Number       string      `json:"number"`
	ClientSecret string      `json:"clientSecret,omitempty"`
	TotalAmount  json.Number `json:"totalAmount"`
	Currency     string      `json:"currency"`
}

// placeOrder serves POST /api/orders (cash on delivery) and /api/orders/with-payment (card).
func (s *Server) placeOrder(method payment.Method) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := requireJSON(c); err != nil {
			s.fail(c, err)
			return
		}
		cmd, err := decodeOrder(body(c), actorOf(c), method)
		if err != nil {
			s.fail(c, err)
			return
		}
		answerWith(c, placedAnswer)
		placed, err := s.app.PlaceOrder.Handle(c.Request.Context(), cmd)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Location", "/api/orders/"+placed.Order.ID())
		respond(s, c, placedAnswer, placed)
	}
}

// placedAnswer is a checkout's answer (which an Idempotency-Key keeps with the order).
func placedAnswer(placed app.PlacedOrder) (int, any, error) {
	o := placed.Order
	return http.StatusCreated, placedJSON{OrderID: o.ID(), Number: o.Number(), ClientSecret: placed.ClientSecret,
		TotalAmount: amount(o.Total()), Currency: o.Total().Currency().Code()}, nil
}

func (s *Server) listOrders(c *gin.Context) {
	cursor, limit, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	orders, next, err := s.app.Orders.List(c.Request.Context(), actorOf(c),
		app.OrderQuery{Status: order.Status(c.Query("status")), After: cursor, Limit: limit})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, newPage(orders, orderSummaryView, next))
}

func (s *Server) getOrder(c *gin.Context) {
	o, err := s.app.Orders.Get(c.Request.Context(), actorOf(c), c.Param("orderId"))
	s.answerOrder(c, o, err)
}

// confirmPaid serves PATCH /paid: 204 once the order is paid, 409 payment_not_completed if not.
func (s *Server) confirmPaid(c *gin.Context) {
	err := s.app.ConfirmPaid.Handle(c.Request.Context(), app.ConfirmPaid{Actor: actorOf(c), OrderID: c.Param("orderId")})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
