package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB v1's SQLite backend finds a document by _id with the expression
// _ferretdb_sjson->'$._id', but the unique _id index it creates is on
// _ferretdb_sjson->"_id": SQLite matches index expressions as written, so
// every {_id: v} read, update and upsert scans the whole table and parses
// every document (measured: 14 ms per lookup at 1,000 documents, 200 ms at
// 16,000, growing with the collection). indexIDLookups adds, to every
// collection table, an index on the expression the lookups use. FerretDB
// does not know about it (it is not listed by listIndexes) and SQLite drops
// it with its table.
const (
	idLookupExpr   = `_ferretdb_sjson->'$._id'`
	idLookupSuffix = "_campaignpulse_id_lookup"
	// metadataTable lists a database file's collections and their tables.
	metadataTable = "_ferretdb_collections"
	// indexPeriod is how soon a new collection gets its index.
	indexPeriod = 500 * time.Millisecond
)

// indexIDLookups indexes the _id lookup expression in every collection
// table of every database file in dir, returning how many indexes it
// created.
func indexIDLookups(ctx context.Context, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return 0, fmt.Errorf("list database files: %w", err)
	}
	created := 0
	var errs []error
	for _, f := range files {
		n, err := indexFile(ctx, f)
		created += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(f), err))
		}
	}
	return created, errors.Join(errs...)
}

func indexFile(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `SELECT m.table_name FROM `+metadataTable+` m
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = m.table_name || ?)`, idLookupSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0, nil // FerretDB has not initialised this file yet
		}
		return 0, fmt.Errorf("list collections: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list collections: %w", err)
		}
		tables = append(tables, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("list collections: %w", err)
	}
	n := 0
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+idLookupSuffix, t, idLookupExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return n, fmt.Errorf("index %s: %w", t, err)
		}
		n++
	}
	return n, nil
}

// keepIndexing runs indexIDLookups every indexPeriod until ctx ends.
func keepIndexing(ctx context.Context, dir string, report func(error)) {
	t := time.NewTicker(indexPeriod)
	defer t.Stop()
	for {
		if _, err := indexIDLookups(ctx, dir); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
