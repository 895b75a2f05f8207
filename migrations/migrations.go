// Package migrations owns the database schema: SQL files per dialect, applied in name order by
// bun/migrate, embedded into the binary so `wolfix migrate` needs nothing beside it.
// File names are YYYYMMDDhhmmss_name.up.sql / .down.sql; each dialect has the same set of names.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres returns the PostgreSQL migrations.
func Postgres() fs.FS { return sub("postgres") }

// SQLite returns the SQLite migrations.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above; failure is a build defect
	}
	return f
}
