package embedded

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestIDLookupsUseAnIndex: once a collection exists, SQLite plans
// FerretDB's _id lookup (the WHERE clause its backend writes) as an index
// search, not a table scan, and FerretDB still answers by _id.
func TestIDLookupsUseAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, err := StartMongo(ctx, dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mc, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	coll := mc.Database("db").Collection("live")
	if _, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "_id", Value: "b"}, {Key: "n", Value: 2}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.IndexIDLookups(ctx); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "db.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRowContext(ctx, `SELECT table_name FROM `+metadataTable+` WHERE name = 'live'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "`+table+`" WHERE `+idLookupExpr+` = ?`, `"b"`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX "+table+idLookupSuffix) {
		t.Fatalf("the _id lookup is planned as %q, want a search using %s", p, table+idLookupSuffix)
	}

	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Decode(&got); err != nil || got["n"] != int32(2) {
		t.Fatalf("find by _id: %v %v", got, err)
	}
	// A collection created later is indexed by the server on its own.
	if _, err := mc.Database("db").Collection("later").InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%'||?`, idLookupSuffix).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lookup indexes after 30s, want 2", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
