// Package catalog owns products: what is sold, by which seller, at what price, and how many units
// are in stock. Storage changes stock only by conditional updates, so it never goes below zero.
package catalog

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
)

// Limits on product fields.
const (
	MaxTitleLength = 200
	MaxStock       = 1_000_000_000
	MaxPhotoURLLen = 2048
)

// Errors reported by this package.
var (
	ErrNotFound     = fault.NotFound("product_not_found", "product not found")
	ErrTitleInvalid = fault.Invalid("title_invalid", "title must be 1 to 200 characters")
	ErrPriceInvalid = fault.Invalid("price_invalid", "price must be greater than zero")
	ErrStockInvalid = fault.Invalid("stock_invalid", "stock must be between 0 and 1000000000")
	ErrPhotoInvalid = fault.Invalid("photo_url_invalid", "photoUrl must be an http(s) URL of at most 2048 characters")
	ErrOutOfStock   = fault.Conflict("out_of_stock", "not enough units in stock")
	ErrNotOwner     = fault.Forbidden("not_product_owner", "only the product's seller or an admin may change it")
	ErrSellerNeeded = fault.Invalid("seller_invalid", "seller id is required")
)

// Product is a thing for sale. Fields are unexported so that every change goes through a method
// that keeps the rules; adapters rebuild stored products with Restore.
type Product struct {
	id        string
	sellerID  string
	title     string
	price     money.Money
	stock     int64
	photoURL  string
	createdAt time.Time
	updatedAt time.Time
}

// NewProduct validates and builds a new product.
func NewProduct(id, sellerID, title string, price money.Money, stock int64, photoURL string, now time.Time) (*Product, error) {
	if strings.TrimSpace(sellerID) == "" {
		return nil, ErrSellerNeeded
	}
	p := &Product{id: id, sellerID: sellerID, createdAt: now, updatedAt: now}
	for _, set := range []func() error{
		func() error { return p.setTitle(title) },
		func() error { return p.setPrice(price) },
		func() error { return p.setStock(stock) },
		func() error { return p.setPhotoURL(photoURL) },
	} {
		if err := set(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Restore rebuilds a stored product without validation; only storage adapters call it.
func Restore(id, sellerID, title string, price money.Money, stock int64, photoURL string, createdAt, updatedAt time.Time) *Product {
	return &Product{id: id, sellerID: sellerID, title: title, price: price, stock: stock,
		photoURL: photoURL, createdAt: createdAt, updatedAt: updatedAt}
}

// Patch holds the fields a seller may change; nil means "leave as is".
type Patch struct {
	Title    *string
	Price    *money.Money
	Stock    *int64
	PhotoURL *string
}

// Apply changes the product as the patch says, all or nothing.
func (p *Product) Apply(patch Patch, now time.Time) error {
	next := *p
	if patch.Title != nil {
		if err := next.setTitle(*patch.Title); err != nil {
			return err
		}
	}
	if patch.Price != nil {
		if err := next.setPrice(*patch.Price); err != nil {
			return err
		}
	}
	if patch.Stock != nil {
		if err := next.setStock(*patch.Stock); err != nil {
			return err
		}
	}
	if patch.PhotoURL != nil {
		if err := next.setPhotoURL(*patch.PhotoURL); err != nil {
			return err
		}
	}
	next.updatedAt = now
	*p = next
	return nil
}

// CanBeChangedBy reports whether a user may edit the product: its own seller, or an admin.
func (p *Product) CanBeChangedBy(userID string, isAdmin bool) bool {
	return isAdmin || (userID != "" && userID == p.sellerID)
}

func (p *Product) setTitle(t string) error {
	t = strings.TrimSpace(t)
	if t == "" || utf8.RuneCountInString(t) > MaxTitleLength || !utf8.ValidString(t) {
		return ErrTitleInvalid
	}
	p.title = t
	return nil
}

func (p *Product) setPrice(m money.Money) error {
	if m.Minor() <= 0 || m.Currency().IsZero() {
		return ErrPriceInvalid
	}
	p.price = m
	return nil
}

func (p *Product) setStock(s int64) error {
	if s < 0 || s > MaxStock {
		return ErrStockInvalid
	}
	p.stock = s
	return nil
}

func (p *Product) setPhotoURL(u string) error {
	if u != "" && (len(u) > MaxPhotoURLLen || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) || !hasHost(u)) {
		return ErrPhotoInvalid
	}
	p.photoURL = u
	return nil
}

// hasHost reports whether u parses as an absolute URL with a host; url.Parse also refuses control
// characters, so a stored photo URL cannot smuggle a CR/LF into a header or a log line.
func hasHost(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && parsed.Host != ""
}

// ID returns the product id.
func (p *Product) ID() string { return p.id }

// SellerID returns the id of the seller who owns the product.
func (p *Product) SellerID() string { return p.sellerID }

// Title returns the product's title.
func (p *Product) Title() string { return p.title }

// Price returns the unit price.
func (p *Product) Price() money.Money { return p.price }

// Stock returns the units available.
func (p *Product) Stock() int64 { return p.stock }

// PhotoURL returns the product photo's address, or "".
func (p *Product) PhotoURL() string { return p.photoURL }

// CreatedAt returns when the product was listed.
func (p *Product) CreatedAt() time.Time { return p.createdAt }

// UpdatedAt returns when the product last changed.
func (p *Product) UpdatedAt() time.Time { return p.updatedAt }
