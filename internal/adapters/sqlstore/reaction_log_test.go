package sqlstore

import (
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
)

func TestReactionLogPassesThePortSuite_SQLiteAndPostgres(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func(*testing.T) *testDB) {
		porttest.RunReactionLog(t, func(t *testing.T) app.ReactionLog {
			tdb := open(t)
			log, err := NewReactionLog(tdb.db.DB, tdb.dialect)
			if err != nil {
				t.Fatal(err)
			}
			return log
		})
	})
}
