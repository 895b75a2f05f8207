package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
		c.Header("ETag", orderETag(placed.Order)) // the new order's, for a long poll without a first GET
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

// getOrder serves GET /api/orders/{orderId}: the order, with its version as a strong ETag
// ("3"). When If-None-Match names the current ETag (or is *), the answer is 304 without a body.
// With ?wait=N as well (whole seconds, 0 to 30), a request whose ETag still matches is held until
// the order changes (200 with the new ETag) or N seconds pass (304); the client going away, or
// the server shutting down (app.OrderQueries.EndWaits), ends it early. Without If-None-Match,
// wait changes nothing. The answer is never stored by a cache: it holds the customer's data.
func (s *Server) getOrder(c *gin.Context) {
	wait, err := waitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	tags := parseIfNoneMatch(c.Request.Header.Values("If-None-Match"))
	if tags.any {
		wait = 0 // every order matches *: no change can end the wait
	}
	o, err := s.app.Orders.Await(c.Request.Context(), actorOf(c), c.Param("orderId"), tags.versions, wait)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", orderETag(o))
	c.Header("Cache-Control", "no-store")
	if tags.match(o.Version()) {
		c.Status(http.StatusNotModified)
		return
	}
	respond(s, c, orderAnswer, o)
}

// waitParam reads ?wait: whole seconds from 0 to 30; absent is 0.
func waitParam(c *gin.Context) (time.Duration, error) {
	raw, ok := c.GetQuery("wait")
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > int(app.MaxOrderWait/time.Second) {
		return 0, app.ErrWait
	}
	return time.Duration(n) * time.Second, nil
}

// orderETag is the entity tag of an order's representation: its stored version, which every
// stored change bumps.
func orderETag(o *order.Order) string { return `"` + strconv.FormatInt(o.Version(), 10) + `"` }

// entityTags is an If-None-Match header: * (any), or the order versions its entity tags name.
type entityTags struct {
	any      bool
	versions []int64
}

// match reports whether the tags name an order at version (the weak comparison of RFC 9110
// §8.8.3.2, which If-None-Match uses).
func (t entityTags) match(version int64) bool { return t.any || slices.Contains(t.versions, version) }

// parseIfNoneMatch reads the values of If-None-Match (RFC 9110 §13.1.2): "*", or a list of
// entity tags, strong ("3") or weak (W/"3"). A tag that is not an order version of ours can never
// match and is skipped, as is anything malformed.
func parseIfNoneMatch(values []string) entityTags {
	var tags entityTags
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				tags.any = true
			} else if version, ok := versionOf(tag); ok {
				tags.versions = append(tags.versions, version)
			}
		}
	}
	return tags
}

// versionOf reads the order version an entity tag names: "3", or W/"3".
func versionOf(tag string) (int64, bool) {
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	opaque := tag[1 : len(tag)-1]
	n, err := strconv.ParseInt(opaque, 10, 64)
	return n, err == nil && n >= 0 && strconv.FormatInt(n, 10) == opaque
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
