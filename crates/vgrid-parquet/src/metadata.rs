//! # Page headers and the footer, as Thrift structs
//!
//! The subset of `parquet.thrift` (apache/parquet-format) this writer fills in, with the field
//! ids it uses:
//!
//! ```text
//! PageHeader        1 type (DATA_PAGE = 0)  2 uncompressed_page_size  3 compressed_page_size
//!                   5 data_page_header: DataPageHeader
//! DataPageHeader    1 num_values (nulls included)  2 encoding (PLAIN = 0)
//!                   3 definition_level_encoding (RLE = 3)  4 repetition_level_encoding (RLE = 3)
//! FileMetaData      1 version (1)  2 schema: list<SchemaElement>  3 num_rows
//!                   4 row_groups: list<RowGroup>  6 created_by  7 column_orders
//! SchemaElement     1 type  3 repetition_type (OPTIONAL = 1)  4 name  5 num_children
//!                   6 converted_type (UTF8 = 0)  10 logicalType (union, 1 = STRING)
//! RowGroup          1 columns: list<ColumnChunk>  2 total_byte_size  3 num_rows
//!                   5 file_offset  6 total_compressed_size  7 ordinal
//! ColumnChunk       2 file_offset (0: no metadata outside the footer)  3 meta_data
//! ColumnMetaData    1 type  2 encodings  3 path_in_schema  4 codec (UNCOMPRESSED = 0)
//!                   5 num_values  6 total_uncompressed_size  7 total_compressed_size
//!                   9 data_page_offset  12 statistics
//! Statistics        3 null_count  5 max_value  6 min_value  7 is_max_value_exact
//!                   8 is_min_value_exact  9 nan_count
//! ColumnOrder       union, 1 = TYPE_ORDER (empty struct)
//! ```
//!
//! The schema is a flattened tree: a root group named `schema` with one optional leaf per
//! column. Statistics' `min_value`/`max_value` are PLAIN-encoded without a length prefix and
//! follow each column's type-defined order (signed for numbers, byte-wise for strings), which
//! `column_orders` declares so that readers trust them.

use crate::thrift::{CompactType, CompactWriter};
use crate::ColumnType;

/// Parquet's physical type code for a column type.
pub(crate) fn physical_type(ty: ColumnType) -> i32 {
    match ty {
        ColumnType::Bool => 0,
        ColumnType::I32 => 1,
        ColumnType::I64 => 2,
        ColumnType::F64 => 5,
        ColumnType::Utf8 => 6,
    }
}

const ENCODING_PLAIN: i32 = 0;
const ENCODING_RLE: i32 = 3;
const REPETITION_OPTIONAL: i32 = 1;
const CONVERTED_UTF8: i32 = 0;
const CODEC_UNCOMPRESSED: i32 = 0;
const PAGE_DATA: i32 = 0;

/// Column-chunk statistics.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statistics {
    pub(crate) null_count: i64,
    /// PLAIN-encoded bounds (no length prefix); `None` when the chunk has no non-null,
    /// non-NaN value.
    pub(crate) min_max: Option<(Vec<u8>, Vec<u8>)>,
    /// Set for floating-point columns only.
    pub(crate) nan_count: Option<i64>,
}

/// One column chunk as the footer describes it.
#[derive(Debug, Clone)]
pub(crate) struct ChunkMeta {
    pub(crate) num_values: i64,
    /// Header plus page bytes (the same compressed or not).
    pub(crate) total_size: i64,
    pub(crate) data_page_offset: i64,
    pub(crate) statistics: Statistics,
}

/// One row group as the footer describes it.
#[derive(Debug, Clone)]
pub(crate) struct RowGroupMeta {
    pub(crate) chunks: Vec<ChunkMeta>,
    pub(crate) num_rows: i64,
    pub(crate) file_offset: i64,
}

/// The header of a v1 data page holding `num_values` levels and a body of `page_size` bytes.
pub(crate) fn data_page_header(num_values: i32, page_size: i32) -> Vec<u8> {
    let mut w = CompactWriter::new();
    w.struct_begin();
    w.i32_field(1, PAGE_DATA);
    w.i32_field(2, page_size);
    w.i32_field(3, page_size);
    w.struct_field(5);
    w.i32_field(1, num_values);
    w.i32_field(2, ENCODING_PLAIN);
    w.i32_field(3, ENCODING_RLE);
    w.i32_field(4, ENCODING_RLE);
    w.struct_end();
    w.struct_end();
    w.buf
}

/// The serialised `FileMetaData` for the given schema and row groups.
pub(crate) fn file_metadata(
    columns: &[(String, ColumnType)],
    row_groups: &[RowGroupMeta],
    created_by: &str,
) -> Vec<u8> {
    let mut w = CompactWriter::new();
    w.struct_begin();
    w.i32_field(1, 1);
    schema(&mut w, columns);
    w.i64_field(3, row_groups.iter().map(|g| g.num_rows).sum());
    w.list_field(4, CompactType::Struct, row_groups.len());
    for (ordinal, group) in row_groups.iter().enumerate() {
        row_group(&mut w, columns, group, ordinal);
    }
    w.binary_field(6, created_by.as_bytes());
    w.list_field(7, CompactType::Struct, columns.len());
    for _ in columns {
        w.struct_begin(); // ColumnOrder
        w.struct_field(1); // TYPE_ORDER: TypeDefinedOrder {}
        w.struct_end();
        w.struct_end();
    }
    w.struct_end();
    w.buf
}

fn schema(w: &mut CompactWriter, columns: &[(String, ColumnType)]) {
    w.list_field(2, CompactType::Struct, columns.len() + 1);
    w.struct_begin();
    w.binary_field(4, b"schema");
    w.i32_field(5, columns.len() as i32);
    w.struct_end();
    for (name, ty) in columns {
        w.struct_begin();
        w.i32_field(1, physical_type(*ty));
        w.i32_field(3, REPETITION_OPTIONAL);
        w.binary_field(4, name.as_bytes());
        if *ty == ColumnType::Utf8 {
            w.i32_field(6, CONVERTED_UTF8);
            w.struct_field(10); // LogicalType union
            w.struct_field(1); // STRING: StringType {}
            w.struct_end();
            w.struct_end();
        }
        w.struct_end();
    }
}

fn row_group(
    w: &mut CompactWriter,
    columns: &[(String, ColumnType)],
    group: &RowGroupMeta,
    ordinal: usize,
) {
    let total: i64 = group.chunks.iter().map(|c| c.total_size).sum();
    w.struct_begin();
    w.list_field(1, CompactType::Struct, group.chunks.len());
    for ((name, ty), chunk) in columns.iter().zip(&group.chunks) {
        w.struct_begin(); // ColumnChunk
        w.i64_field(2, 0);
        w.struct_field(3); // ColumnMetaData
        w.i32_field(1, physical_type(*ty));
        w.list_field(2, CompactType::I32, 2);
        w.i32(ENCODING_PLAIN);
        w.i32(ENCODING_RLE);
        w.list_field(3, CompactType::Binary, 1);
        w.binary(name.as_bytes());
        w.i32_field(4, CODEC_UNCOMPRESSED);
        w.i64_field(5, chunk.num_values);
        w.i64_field(6, chunk.total_size);
        w.i64_field(7, chunk.total_size);
        w.i64_field(9, chunk.data_page_offset);
        statistics(w, &chunk.statistics);
        w.struct_end();
        w.struct_end();
    }
    w.i64_field(2, total);
    w.i64_field(3, group.num_rows);
    w.i64_field(5, group.file_offset);
    w.i64_field(6, total);
    // the ordinal is an i16; files with more row groups simply leave it out
    if let Ok(ordinal) = i16::try_from(ordinal) {
        w.i16_field(7, ordinal);
    }
    w.struct_end();
}

fn statistics(w: &mut CompactWriter, s: &Statistics) {
    w.struct_field(12);
    w.i64_field(3, s.null_count);
    if let Some((min, max)) = &s.min_max {
        w.binary_field(5, max);
        w.binary_field(6, min);
        w.bool_field(7, true);
        w.bool_field(8, true);
    }
    if let Some(nan_count) = s.nan_count {
        w.i64_field(9, nan_count);
    }
    w.struct_end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_page_header_by_hand() {
        // PageHeader{1: 0, 2: 100, 3: 100, 5: {1: 10, 2: 0, 3: 3, 4: 3}}
        assert_eq!(
            data_page_header(10, 100),
            [
                0x15, 0x00, // type DATA_PAGE
                0x15, 0xc8, 0x01, // uncompressed 100 -> zigzag 200
                0x15, 0xc8, 0x01, // compressed
                0x2c, // field 5 (delta 2), struct
                0x15, 0x14, // num_values 10
                0x15, 0x00, 0x15, 0x06, 0x15, 0x06, // PLAIN, RLE, RLE
                0x00, 0x00,
            ]
        );
    }

    #[test]
    fn string_leaf_carries_both_annotations() {
        let mut w = CompactWriter::new();
        w.struct_begin();
        schema(&mut w, &[("s".to_string(), ColumnType::Utf8)]);
        w.struct_end();
        assert_eq!(
            w.buf,
            [
                0x29, 0x2c, // field 2: list of 2 structs
                0x48, 0x06, b's', b'c', b'h', b'e', b'm', b'a', 0x15, 0x02, 0x00, // root
                0x15, 0x0c, // type BYTE_ARRAY (6)
                0x25, 0x02, // repetition OPTIONAL
                0x18, 0x01, b's', // name
                0x25, 0x00, // converted_type UTF8
                0x4c, 0x1c, 0x00, 0x00, // logicalType { STRING {} }
                0x00, // end of leaf
                0x00, // end of the enclosing struct
            ]
        );
    }
}
