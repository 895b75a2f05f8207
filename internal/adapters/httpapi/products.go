package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
)

// productJSON is the product representation of DESIGN §3.
type productJSON struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Price     json.Number `json:"price"`
	Currency  string      `json:"currency"`
	Stock     int64       `json:"stock"`
	SellerID  string      `json:"sellerId"`
	PhotoURL  *string     `json:"photoUrl"`
	CreatedAt string      `json:"createdAt"`
	UpdatedAt string      `json:"updatedAt"`
}

func productView(p *catalog.Product) productJSON {
	return productJSON{ID: p.ID(), Title: p.Title(), Price: amount(p.Price()),
		Currency: p.Price().Currency().Code(), Stock: p.Stock(), SellerID: p.SellerID(),
		PhotoURL: nullable(p.PhotoURL()), CreatedAt: timestamp(p.CreatedAt()), UpdatedAt: timestamp(p.UpdatedAt())}
}

// createProductRequest is the body of POST /api/products. Price and stock are json.Number so
// that they stay exact and a fraction of a unit is refused rather than rounded.
type createProductRequest struct {
	Title    string      `json:"title"`
	Price    json.Number `json:"price"`
	Currency string      `json:"currency"`
	Stock    json.Number `json:"stock"`
	PhotoURL string      `json:"photoUrl"`
	SellerID string      `json:"sellerId"`
}

// updateProductRequest is the body of PATCH /api/products/{id}; absent or null fields stay.
type updateProductRequest struct {
	Title    *string      `json:"title"`
	Price    *json.Number `json:"price"`
	Currency *string      `json:"currency"`
	Stock    *json.Number `json:"stock"`
	PhotoURL *string      `json:"photoUrl"`
}

func (s *Server) listProducts(c *gin.Context) {
	cursor, limit, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	products, next, err := s.app.Catalog.ListProducts(c.Request.Context(), app.ProductQuery{After: cursor, Limit: limit})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, newPage(products, productView, next))
}

func (s *Server) getProduct(c *gin.Context) {
	p, err := s.app.Catalog.GetProduct(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, productView(p))
}

func (s *Server) createProduct(c *gin.Context) {
	var req createProductRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	stock, err := parseStock(req.Stock)
	if err != nil {
		s.fail(c, err)
		return
	}
	answerWith(c, createdProductAnswer)
	p, err := s.app.Catalog.CreateProduct(c.Request.Context(), app.CreateProduct{Actor: actorOf(c),
		SellerID: req.SellerID, Title: req.Title, Price: req.Price.String(), Currency: req.Currency,
		Stock: stock, PhotoURL: req.PhotoURL})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/products/"+p.ID())
	respond(s, c, createdProductAnswer, p)
}

// createdProductAnswer is a new product's answer (which an Idempotency-Key keeps with it).
func createdProductAnswer(p *catalog.Product) (int, any, error) {
	return http.StatusCreated, productView(p), nil
}

func (s *Server) updateProduct(c *gin.Context) {
	var req updateProductRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	cmd := app.UpdateProduct{Actor: actorOf(c), ProductID: c.Param("id"), Title: req.Title,
		Currency: req.Currency, PhotoURL: req.PhotoURL}
	if req.Price != nil {
		price := req.Price.String()
		cmd.Price = &price
	}
	if req.Stock != nil {
		stock, err := parseStock(*req.Stock)
		if err != nil {
			s.fail(c, err)
			return
		}
		cmd.Stock = &stock
	}
	p, err := s.app.Catalog.UpdateProduct(c.Request.Context(), cmd)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, productView(p))
}

// parseStock accepts a whole number of units; the catalog checks the range.
func parseStock(n json.Number) (int64, error) {
	stock, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, catalog.ErrStockInvalid
	}
	return stock, nil
}
