package diff

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// sqliteFormat compares SQLite databases as `sqlite3 .dump` shows them:
// the schema, then every table's rows as INSERT statements, read with the
// pure-Go driver from a read-only, immutable copy (no journal, no
// trusted schema). The dump is bounded by the table size limit.
type sqliteFormat struct{}

func (sqliteFormat) Name() string { return "sqlite" }

// Detect: the SQLite 3 file header.
func (sqliteFormat) Detect(h []byte) bool { return bytes.HasPrefix(h, []byte("SQLite format 3\x00")) }

func (sqliteFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	va, vb, err := bothInputs(a, b, func(in *input) ([]view, error) { return dumpSQLite(c, in) })
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "sqlite", va, vb, true)
	return c.finishFormat(a, b, "sqlite", before, details, "the databases hold the same schema and rows; their bytes differ in page layout, free pages or header counters"), nil
}

// dumpSQLite copies in to a temporary file (SQLite reads files) and
// dumps its schema and rows.
func dumpSQLite(c *comparer, in *input) ([]view, error) {
	f, err := c.tempFile()
	if err != nil {
		return nil, err
	}
	w := &budgetWriter{c: c, f: f, name: in.name}
	_, err = io.Copy(w, in.reader())
	defer c.fileInput(f, in.name, in.label, w.n, true).done()
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", in.name, err)
	}
	dsn := "file:" + (&url.URL{Path: f.Name()}).EscapedPath() + "?mode=ro&immutable=1&_pragma=trusted_schema(0)&_pragma=query_only(1)&_pragma=cell_size_check(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d := &sqliteDump{c: c, db: db, left: c.opts.Limits.MaxTableSize}
	schema, tables, err := d.schema()
	if err != nil {
		return nil, err
	}
	var rows []string
	for _, t := range tables {
		if err := d.rows(t, &rows); err != nil {
			return nil, err
		}
	}
	return []view{{"sqlite3 {} .schema", "sqlite schema", schema}, {"sqlite3 {} .dump", "sqlite rows", rows}}, nil
}

type sqliteDump struct {
	c    *comparer
	db   *sql.DB
	left int64 // bytes of dump still allowed
}

func (d *sqliteDump) schema() (lines, tables []string, err error) {
	rs, err := d.db.QueryContext(d.c.ctx, "SELECT type, name, COALESCE(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var typ, name, stmt string
		if err := rs.Scan(&typ, &name, &stmt); err != nil {
			return nil, nil, err
		}
		lines = append(lines, stmt+";")
		if typ == "table" && !strings.HasPrefix(name, "sqlite_") {
			tables = append(tables, name)
		}
	}
	return lines, tables, rs.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// rows appends table t's rows as INSERT statements, in rowid (or primary
// key) order, until the dump's byte budget runs out.
func (d *sqliteDump) rows(t string, out *[]string) error {
	rs, err := d.db.QueryContext(d.c.ctx, "SELECT * FROM "+quoteIdent(t))
	if err != nil {
		return err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = sqlLiteral(v)
		}
		line := "INSERT INTO " + quoteIdent(t) + " VALUES(" + strings.Join(parts, ",") + ");"
		d.left -= int64(len(line))
		if d.left < 0 || len(*out) >= maxTextLines {
			*out = append(*out, fmt.Sprintf("-- table %s: more rows not listed (table size limit of %d bytes for the dump)", t, d.c.opts.Limits.MaxTableSize))
			return nil
		}
		*out = append(*out, line)
	}
	return rs.Err()
}

func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
}
