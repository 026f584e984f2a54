"""Reads a Parquet file with a real reader and prints it in a canonical text form.

Usage: python read_back.py FILE pyarrow|duckdb|polars
       python read_back.py --check pyarrow|duckdb|polars   (exit 0 when the reader imports)

Output, one line each (tab-separated):
    meta  <num_rows>  <num_row_groups or -1>  <created_by or ->
    col   <name>  <reader's type name>  <JSON list of the column's values>
    stat  <row group>  <column>  <null_count>  <JSON [min, max] or null>   (pyarrow only)
(duckdb and polars print -1 and - for the row groups and created_by they do not report).

Values are made exact and JSON-safe: floats as "f:" + the 16 hex digits of their IEEE bits,
strings as "s:" + the hex of their UTF-8 bytes, null/bool/int as JSON. The Rust test
(tests/it/main.rs) renders what it wrote the same way and compares the text.
"""

import json
import struct
import sys


def canon(v):
    if v is None or isinstance(v, bool) or isinstance(v, int):
        return v
    if isinstance(v, float):
        return "f:%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if isinstance(v, str):
        return "s:" + v.encode("utf-8").hex()
    raise TypeError("unexpected value type %r" % type(v))


def dumps(v):
    return json.dumps(v, separators=(",", ":"))


def read_pyarrow(path):
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    md = f.metadata
    print("meta\t%d\t%d\t%s" % (md.num_rows, md.num_row_groups, md.created_by))
    table = f.read()
    for name, column in zip(table.column_names, table.columns):
        values = [canon(v) for v in column.to_pylist()]
        print("col\t%s\t%s\t%s" % (name, column.type, dumps(values)))
    for g in range(md.num_row_groups):
        group = md.row_group(g)
        for c in range(group.num_columns):
            s = group.column(c).statistics
            bounds = [canon(s.min), canon(s.max)] if s.has_min_max else None
            print("stat\t%d\t%d\t%d\t%s" % (g, c, s.null_count, dumps(bounds)))


def read_duckdb(path):
    import duckdb

    con = duckdb.connect()
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    rows = con.execute("SELECT * FROM read_parquet(?)", [path]).fetchall()
    print("meta\t%d\t-1\t-" % len(rows))
    for i, d in enumerate(described):
        values = [canon(r[i]) for r in rows]
        print("col\t%s\t%s\t%s" % (d[0], d[1], dumps(values)))


def read_polars(path):
    import polars as pl

    df = pl.read_parquet(path)
    print("meta\t%d\t-1\t-" % df.height)
    for name in df.columns:
        column = df[name]
        values = [canon(v) for v in column.to_list()]
        print("col\t%s\t%s\t%s" % (name, column.dtype, dumps(values)))


READERS = {"pyarrow": read_pyarrow, "duckdb": read_duckdb, "polars": read_polars}


def main():
    if sys.argv[1] == "--check":
        __import__({"pyarrow": "pyarrow.parquet"}.get(sys.argv[2], sys.argv[2]))
        return
    READERS[sys.argv[2]](sys.argv[1])


if __name__ == "__main__":
    main()
