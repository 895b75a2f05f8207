package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
)

// productRepo is app.ProductRepository.
type productRepo struct{ repos }

func (r productRepo) Get(ctx context.Context, id string) (*catalog.Product, error) {
	p, err := r.load(ctx, r.db, id)
	if err != nil {
		return nil, fmt.Errorf("get product %s: %w", id, err)
	}
	return p, nil
}

func (r productRepo) GetMany(ctx context.Context, ids []string) (map[string]*catalog.Product, error) {
	found := make(map[string]*catalog.Product, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := rawConn(r.db).QueryContext(ctx, getManyQuery(len(ids)), args...)
	if err != nil {
		return nil, fmt.Errorf("get products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var row productRow
		if err := rows.Scan(&row.ID, &row.SellerID, &row.Title, &row.PriceMinor, &row.Currency, &row.Stock,
			&row.PhotoURL, &row.CreatedAt, &row.UpdatedAt); err != nil {
			return nil, fmt.Errorf("get products: %w", err)
		}
		p, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		found[p.ID()] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get products: %w", err)
	}
	return found, nil
}

// getManyQuery reads n products by id with $n arguments: one text per n, so Postgres prepares
// each once per connection (checkout asks for at most order.MaxLines).
func getManyQuery(n int) string {
	var q strings.Builder
	q.WriteString("SELECT id, seller_id, title, price_minor, currency, stock, photo_url, created_at, updated_at FROM products WHERE id IN (")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("$" + strconv.Itoa(i+1))
	}
	q.WriteString(")")
	return q.String()
}

func (r productRepo) List(ctx context.Context, q app.ProductQuery) ([]*catalog.Product, string, error) {
	limit := pageSize(q.Limit)
	var rows []*productRow
	sel := r.db.NewSelect().Model(&rows).Order("p.id").Limit(int64(limit) + 1)
	if q.After != "" {
		after, err := decodeCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		sel = sel.Where("p.id > ?", after)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list products: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[limit-1].ID)
	}
	products := make([]*catalog.Product, 0, len(rows))
	for _, row := range rows {
		p, err := row.toDomain()
		if err != nil {
			return nil, "", err
		}
		products = append(products, p)
	}
	return products, next, nil
}

func (r productRepo) Add(ctx context.Context, p *catalog.Product) error {
	if _, err := r.db.NewInsert().Model(productToRow(p)).Exec(ctx); err != nil {
		return fmt.Errorf("add product %s: %w", p.ID(), err)
	}
	return nil
}

func (r productRepo) Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (*catalog.Product, error) {
	var updated *catalog.Product
	err := r.transact(ctx, func(ctx context.Context, db bun.IDB) error {
		if err := r.lockRoot(ctx, db, (*productRow)(nil), id); err != nil {
			return notFound(err, catalog.ErrNotFound)
		}
		p, err := r.load(ctx, db, id)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if _, err := db.NewUpdate().Model(productToRow(p)).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store product: %w", err)
		}
		updated = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update product %s: %w", id, err)
	}
	return updated, nil
}

// Reserve takes the lines' units with conditional UPDATEs: concurrent reservations of the last
// units queue on the row (Postgres) or the write lock (SQLite), and each re-checks what is left.
// On Postgres every line goes in one call of reserve_stock (see its migration), which raises on a
// line it cannot serve; inside a transaction the call travels with the COMMIT (execAtCommit), so
// a shortage fails the commit, and the rows stay locked only while the commit runs. On SQLite, one
// UPDATE a line.
func (r productRepo) Reserve(ctx context.Context, lines ...app.StockLine) error {
	ordered, err := app.InProductOrder(lines)
	if err != nil {
		return err
	}
	if r.dialect == Postgres {
		return r.reserveAtOnce(ctx, ordered)
	}
	for _, l := range ordered {
		if err := r.addStock(ctx, l.ProductID, l.Quantity, -1); err != nil {
			return reserveFailure(l, err)
		}
	}
	return nil
}

func reserveFailure(l app.StockLine, err error) error {
	if errors.Is(err, catalog.ErrOutOfStock) {
		return app.ShortOf(l.ProductID)
	}
	return fmt.Errorf("reserve %d of product %s: %w", l.Quantity, l.ProductID, err)
}

// reserveStockCall calls the reserve_stock function with the lines' ids and quantities.
const reserveStockCall = "SELECT reserve_stock($1::text[], $2::bigint[])"

func (r productRepo) reserveAtOnce(ctx context.Context, lines []app.StockLine) error {
	ids, quantities := make([]string, len(lines)), make([]int64, len(lines))
	for i, l := range lines {
		ids[i], quantities[i] = l.ProductID, l.Quantity
	}
	if _, err := rawConn(r.db).ExecContext(execAtCommit(ctx), reserveStockCall, ids, quantities); err != nil {
		return fmt.Errorf("reserve stock: %w", raisedFault(err))
	}
	return nil
}

func (r productRepo) Release(ctx context.Context, id string, qty int64) error {
	if err := r.addStock(ctx, id, qty, +1); err != nil {
		return fmt.Errorf("release %d of product %s: %w", qty, id, err)
	}
	return nil
}

func (r productRepo) Count(ctx context.Context) (int, error) {
	n, err := r.db.NewSelect().Model((*productRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return int(n), nil
}

func (r productRepo) load(ctx context.Context, db bun.IDB, id string) (*catalog.Product, error) {
	row := new(productRow)
	if err := db.NewSelect().Model(row).Where("p.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, catalog.ErrNotFound)
	}
	return row.toDomain()
}

// addStockQuery moves a product's stock ($1) unless it would go below zero; with $n arguments
// Postgres prepares it once per connection.
const addStockQuery = "UPDATE products SET stock = stock + $1 WHERE id = $2 AND stock + $1 >= 0"

// addStock moves the product's stock by sign×qty unless that would take it below zero. When no row
// changes, the product is missing (ErrNotFound) or short of units (ErrOutOfStock).
func (r productRepo) addStock(ctx context.Context, id string, qty, sign int64) error {
	if qty <= 0 {
		return fmt.Errorf("quantity must be positive, got %d", qty)
	}
	res, err := rawConn(r.db).ExecContext(ctx, addStockQuery, sign*qty, id)
	if err != nil {
		return err
	}
	changed, err := res.RowsAffected()
	if err != nil || changed > 0 {
		return err
	}
	return r.shortOrMissing(ctx, id)
}

// shortOrMissing tells why a conditional stock update changed nothing: the product is missing
// (catalog.ErrNotFound) or short of units (catalog.ErrOutOfStock).
func (r productRepo) shortOrMissing(ctx context.Context, id string) error {
	exists, err := r.db.NewSelect().Model((*productRow)(nil)).Where("p.id = ?", id).Exists(ctx)
	switch {
	case err != nil:
		return err
	case !exists:
		return catalog.ErrNotFound
	}
	return catalog.ErrOutOfStock
}

// notFound turns "no rows" into the domain's not-found error.
func notFound(err, domainErr error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domainErr
	}
	return err
}
