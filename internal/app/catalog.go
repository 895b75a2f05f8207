package app

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
)

// Paging limits for lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ErrPageSize reports a page size outside 1..MaxPageSize.
var ErrPageSize = fault.Invalid("limit_invalid", "limit must be between 1 and 100")

// CatalogHandler runs the catalog's use cases: listing, reading, creating and changing products.
type CatalogHandler struct {
	store UnitOfWork
	clock Clock
	log   *slog.Logger
}

// NewCatalogHandler builds the catalog use cases.
func NewCatalogHandler(store UnitOfWork, clock Clock, log *slog.Logger) *CatalogHandler {
	return &CatalogHandler{store: store, clock: clock, log: log}
}

// ListProducts returns a page of products and the next page's cursor.
func (h *CatalogHandler) ListProducts(ctx context.Context, q ProductQuery) ([]*catalog.Product, string, error) {
	limit, err := pageSize(q.Limit)
	if err != nil {
		return nil, "", err
	}
	q.Limit = limit
	return h.store.Products().List(ctx, q)
}

// GetProduct returns one product.
func (h *CatalogHandler) GetProduct(ctx context.Context, id string) (*catalog.Product, error) {
	return h.store.Products().Get(ctx, id)
}

// CreateProduct is a seller's (or an admin's) new listing. Price is decimal text in major units.
type CreateProduct struct {
	Actor    Actor
	SellerID string // admins may list for a seller; sellers always list for themselves
	Title    string
	Price    string
	Currency string
	Stock    int64
	PhotoURL string
}

// CreateProduct validates and stores a new product.
func (h *CatalogHandler) CreateProduct(ctx context.Context, cmd CreateProduct) (*catalog.Product, error) {
	if err := cmd.Actor.Require(RoleSeller, RoleAdmin); err != nil {
		return nil, err
	}
	seller := cmd.Actor.UserID
	if cmd.Actor.IsAdmin() && cmd.SellerID != "" {
		seller = cmd.SellerID
	}
	price, err := parsePrice(cmd.Price, cmd.Currency)
	if err != nil {
		return nil, err
	}
	p, err := catalog.NewProduct(NewID(), seller, cmd.Title, price, cmd.Stock, cmd.PhotoURL, h.clock.Now())
	if err != nil {
		return nil, err
	}
	err = h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		answer(ctx, p) // an Idempotency-Key's answer commits with the product
		return tx.Products().Add(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(ctx, "product created", "product_id", p.ID(), "seller_id", seller)
	return p, nil
}

// UpdateProduct changes some fields of a product; nil fields stay as they are.
type UpdateProduct struct {
	Actor     Actor
	ProductID string
	Title     *string
	Price     *string
	Currency  *string
	Stock     *int64
	PhotoURL  *string
}

// UpdateProduct applies the change under the product's lock, if the actor owns the product.
func (h *CatalogHandler) UpdateProduct(ctx context.Context, cmd UpdateProduct) (*catalog.Product, error) {
	if err := cmd.Actor.Require(RoleSeller, RoleAdmin); err != nil {
		return nil, err
	}
	return h.store.Products().Update(ctx, cmd.ProductID, func(p *catalog.Product) error {
		if !p.CanBeChangedBy(cmd.Actor.UserID, cmd.Actor.IsAdmin()) {
			return catalog.ErrNotOwner
		}
		patch, err := cmd.patch(p)
		if err != nil {
			return err
		}
		return p.Apply(patch, h.clock.Now())
	})
}

func (cmd UpdateProduct) patch(p *catalog.Product) (catalog.Patch, error) {
	patch := catalog.Patch{Title: cmd.Title, Stock: cmd.Stock, PhotoURL: cmd.PhotoURL}
	if cmd.Price == nil && cmd.Currency == nil {
		return patch, nil
	}
	amount, cur := p.Price().Decimal(), p.Price().Currency().Code()
	if cmd.Price != nil {
		amount = *cmd.Price
	}
	if cmd.Currency != nil {
		cur = *cmd.Currency
	}
	price, err := parsePrice(amount, cur)
	if err != nil {
		return catalog.Patch{}, err
	}
	patch.Price = &price
	return patch, nil
}

func parsePrice(amount, currency string) (money.Money, error) {
	cur, err := money.ParseCurrency(currency)
	if err != nil {
		return money.Money{}, err
	}
	price, err := money.ParseDecimal(amount, cur)
	if err != nil {
		return money.Money{}, catalog.ErrPriceInvalid.WithMessage("price: %v", err)
	}
	return price, nil
}

func pageSize(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageSize, nil
	}
	if limit < 1 || limit > MaxPageSize {
		return 0, ErrPageSize
	}
	return limit, nil
}
