//! # The streaming writer
//!
//! [`ParquetWriter`] keeps one buffer per column for the current row group: the definition
//! level of each row (1 = value, 0 = null), the non-null values already PLAIN-encoded, and
//! running statistics. When the group holds `row_group_size` rows (or its buffers reach
//! [`MAX_BUFFERED_BYTES`]) each column becomes one column chunk made of a single v1 data page:
//!
//! ```text
//! PageHeader (Thrift) | levels byte length (u32 LE) | levels (RLE/bit-packed) | PLAIN values
//! ```
//!
//! and the buffers are cleared for the next group. Only the small per-chunk descriptions
//! (offsets, sizes, statistics) are kept until [`ParquetWriter::finish`] writes the footer, so
//! memory is bounded by one row group whatever the number of rows.

use std::io::Write;

use crate::encoding::{encode_levels, push_bool_bit};
use crate::metadata::{self, ChunkMeta, RowGroupMeta, Statistics};
use crate::{ColumnType, Error, Value, MAGIC};

/// The default number of rows per row group.
pub const DEFAULT_ROW_GROUP_SIZE: usize = 65_536;

/// A row group is also flushed when its buffered values reach this many bytes (long strings),
/// so that no page comes near Parquet's 2 GiB page-size limit and memory stays bounded.
pub const MAX_BUFFERED_BYTES: usize = 128 << 20;

/// Writes rows to a Parquet file, one row group at a time; see the [crate docs](crate).
///
/// Dropping a writer without calling [`ParquetWriter::finish`] leaves a file without its
/// footer, which no reader accepts.
#[derive(Debug)]
pub struct ParquetWriter<W: Write> {
    out: W,
    /// Bytes written to `out` so far: the offset of the next byte.
    offset: u64,
    columns: Vec<(String, ColumnType)>,
    buffers: Vec<ColumnBuffer>,
    rows_in_group: usize,
    rows_written: u64,
    row_group_size: usize,
    /// [`MAX_BUFFERED_BYTES`], smaller in tests.
    max_buffered_bytes: usize,
    row_groups: Vec<RowGroupMeta>,
    /// Scratch for the encoded levels of one page.
    levels: Vec<u8>,
}

/// The current row group's data for one column.
#[derive(Debug)]
struct ColumnBuffer {
    ty: ColumnType,
    /// One definition level per row: 1 = value present, 0 = null.
    def_levels: Vec<u8>,
    /// The non-null values, PLAIN-encoded (booleans bit-packed).
    values: Vec<u8>,
    non_null: usize,
    null_count: u64,
    nan_count: u64,
    bounds: Bounds,
}

/// Running minimum and maximum of the non-null (and non-NaN) values.
#[derive(Debug, Clone, PartialEq)]
enum Bounds {
    Empty,
    F64(f64, f64),
    I64(i64, i64),
    I32(i32, i32),
    Bool(bool, bool),
    Str(String, String),
}

impl<W: Write> ParquetWriter<W> {
    /// Starts a Parquet stream on `out` with the given columns, all optional (nullable).
    ///
    /// Writes the 4-byte magic at once. Column names must be non-empty and distinct.
    pub fn new(mut out: W, columns: &[(&str, ColumnType)]) -> Result<Self, Error> {
        if columns.is_empty() {
            return Err(Error::NoColumns);
        }
        for (i, (name, _)) in columns.iter().enumerate() {
            if name.is_empty() {
                return Err(Error::EmptyColumnName { index: i });
            }
            if columns[..i].iter().any(|(other, _)| other == name) {
                return Err(Error::DuplicateColumn {
                    column: name.to_string(),
                });
            }
        }
        out.write_all(MAGIC)?;
        Ok(Self {
            out,
            offset: MAGIC.len() as u64,
            columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            buffers: columns.iter().map(|(_, t)| ColumnBuffer::new(*t)).collect(),
            rows_in_group: 0,
            rows_written: 0,
            row_group_size: DEFAULT_ROW_GROUP_SIZE,
            max_buffered_bytes: MAX_BUFFERED_BYTES,
            row_groups: Vec::new(),
            levels: Vec::new(),
        })
    }

    /// Sets the number of rows per row group (default [`DEFAULT_ROW_GROUP_SIZE`]; 0 counts as
    /// 1). Applies from the next row on.
    pub fn with_row_group_size(mut self, rows: usize) -> Self {
        self.row_group_size = rows.max(1);
        self
    }

    /// The columns, as given to [`ParquetWriter::new`].
    pub fn columns(&self) -> &[(String, ColumnType)] {
        &self.columns
    }

    /// Rows accepted so far.
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// Appends one row: one value per column, in column order, each of the column's type or
    /// [`Value::Null`]. A rejected row leaves the writer as it was.
    pub fn write_row(&mut self, row: &[Value<'_>]) -> Result<(), Error> {
        if row.len() != self.buffers.len() {
            return Err(Error::Arity {
                expected: self.buffers.len(),
                got: row.len(),
                row: self.rows_written,
            });
        }
        for ((name, ty), value) in self.columns.iter().zip(row) {
            if !value.fits(*ty) {
                return Err(Error::Type {
                    column: name.clone(),
                    row: self.rows_written,
                    expected: *ty,
                    got: value.kind(),
                });
            }
        }
        let mut buffered = 0;
        for (buffer, value) in self.buffers.iter_mut().zip(row) {
            buffer.push(*value);
            buffered += buffer.values.len();
        }
        self.rows_in_group += 1;
        self.rows_written += 1;
        if self.rows_in_group >= self.row_group_size || buffered >= self.max_buffered_bytes {
            self.flush_row_group()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as a row group (nothing when there are none).
    pub fn flush_row_group(&mut self) -> Result<(), Error> {
        if self.rows_in_group == 0 {
            return Ok(());
        }
        let num_rows = self.rows_in_group;
        let file_offset = self.offset;
        let mut chunks = Vec::with_capacity(self.buffers.len());
        for (i, buffer) in self.buffers.iter_mut().enumerate() {
            self.levels.clear();
            self.levels.extend_from_slice(&[0; 4]);
            encode_levels(&buffer.def_levels, &mut self.levels);
            let levels_len = (self.levels.len() - 4) as u32;
            self.levels[..4].copy_from_slice(&levels_len.to_le_bytes());
            let page_size = self.levels.len() + buffer.values.len();
            let too_large = || Error::PageTooLarge {
                column: self.columns[i].0.clone(),
                bytes: page_size as u64,
            };
            let page_size_i32 = i32::try_from(page_size).map_err(|_| too_large())?;
            let num_values = i32::try_from(num_rows).map_err(|_| too_large())?;
            let header = metadata::data_page_header(num_values, page_size_i32);
            let data_page_offset = self.offset;
            self.out.write_all(&header)?;
            self.out.write_all(&self.levels)?;
            self.out.write_all(&buffer.values)?;
            let total_size = (header.len() + page_size) as u64;
            self.offset += total_size;
            chunks.push(ChunkMeta {
                num_values: num_rows as i64,
                total_size: total_size as i64,
                data_page_offset: data_page_offset as i64,
                statistics: buffer.take_statistics(),
            });
        }
        self.row_groups.push(RowGroupMeta {
            chunks,
            num_rows: num_rows as i64,
            file_offset: file_offset as i64,
        });
        self.rows_in_group = 0;
        Ok(())
    }

    /// Flushes the last row group, writes the footer (metadata, its length, the magic), flushes
    /// `out` and returns it.
    pub fn finish(mut self) -> Result<W, Error> {
        self.flush_row_group()?;
        let created_by = format!("vgrid-parquet version {}", env!("CARGO_PKG_VERSION"));
        let footer = metadata::file_metadata(&self.columns, &self.row_groups, &created_by);
        let footer_len = u32::try_from(footer.len()).map_err(|_| Error::FooterTooLarge {
            bytes: footer.len() as u64,
        })?;
        self.out.write_all(&footer)?;
        self.out.write_all(&footer_len.to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl ColumnBuffer {
    fn new(ty: ColumnType) -> Self {
        Self {
            ty,
            def_levels: Vec::new(),
            values: Vec::new(),
            non_null: 0,
            null_count: 0,
            nan_count: 0,
            bounds: Bounds::Empty,
        }
    }

    /// Appends a value already checked to fit the column.
    fn push(&mut self, value: Value<'_>) {
        if value == Value::Null {
            self.def_levels.push(0);
            self.null_count += 1;
            return;
        }
        self.def_levels.push(1);
        match value {
            Value::F64(v) => {
                self.values.extend_from_slice(&v.to_le_bytes());
                if v.is_nan() {
                    self.nan_count += 1;
                } else {
                    self.bounds.update_f64(v);
                }
            }
            Value::I64(v) => {
                self.values.extend_from_slice(&v.to_le_bytes());
                self.bounds.update_ord(v, Bounds::I64, |b| match b {
                    Bounds::I64(lo, hi) => Some((lo, hi)),
                    _ => None,
                });
            }
            Value::I32(v) => {
                self.values.extend_from_slice(&v.to_le_bytes());
                self.bounds.update_ord(v, Bounds::I32, |b| match b {
                    Bounds::I32(lo, hi) => Some((lo, hi)),
                    _ => None,
                });
            }
            Value::Bool(v) => {
                push_bool_bit(&mut self.values, self.non_null, v);
                self.bounds.update_ord(v, Bounds::Bool, |b| match b {
                    Bounds::Bool(lo, hi) => Some((lo, hi)),
                    _ => None,
                });
            }
            Value::Str(s) => {
                // a page above 2 GiB is refused at flush; the cast cannot lose a valid length
                self.values
                    .extend_from_slice(&(s.len() as u32).to_le_bytes());
                self.values.extend_from_slice(s.as_bytes());
                self.bounds.update_str(s);
            }
            Value::Null => {}
        }
        self.non_null += 1;
    }

    /// The statistics of the buffered chunk; clears the buffers for the next row group.
    fn take_statistics(&mut self) -> Statistics {
        let min_max = match std::mem::replace(&mut self.bounds, Bounds::Empty) {
            Bounds::Empty => None,
            // the spec's rule for zeros: -0.0 as minimum, +0.0 as maximum
            Bounds::F64(lo, hi) => {
                let lo = if lo == 0.0 { -0.0 } else { lo };
                let hi = if hi == 0.0 { 0.0 } else { hi };
                Some((lo.to_le_bytes().to_vec(), hi.to_le_bytes().to_vec()))
            }
            Bounds::I64(lo, hi) => Some((lo.to_le_bytes().to_vec(), hi.to_le_bytes().to_vec())),
            Bounds::I32(lo, hi) => Some((lo.to_le_bytes().to_vec(), hi.to_le_bytes().to_vec())),
            Bounds::Bool(lo, hi) => Some((vec![u8::from(lo)], vec![u8::from(hi)])),
            Bounds::Str(lo, hi) => Some((lo.into_bytes(), hi.into_bytes())),
        };
        let statistics = Statistics {
            null_count: self.null_count as i64,
            min_max,
            nan_count: (self.ty == ColumnType::F64).then_some(self.nan_count as i64),
        };
        self.def_levels.clear();
        self.values.clear();
        self.non_null = 0;
        self.null_count = 0;
        self.nan_count = 0;
        statistics
    }
}

impl Bounds {
    fn update_f64(&mut self, v: f64) {
        match self {
            Bounds::F64(lo, hi) => {
                if v < *lo {
                    *lo = v;
                }
                if v > *hi {
                    *hi = v;
                }
            }
            _ => *self = Bounds::F64(v, v),
        }
    }

    fn update_ord<T: PartialOrd + Copy>(
        &mut self,
        v: T,
        make: fn(T, T) -> Bounds,
        get: fn(&mut Bounds) -> Option<(&mut T, &mut T)>,
    ) {
        match get(self) {
            Some((lo, hi)) => {
                if v < *lo {
                    *lo = v;
                }
                if v > *hi {
                    *hi = v;
                }
            }
            None => *self = make(v, v),
        }
    }

    fn update_str(&mut self, v: &str) {
        match self {
            Bounds::Str(lo, hi) => {
                // byte-wise order, as Parquet's UTF8 order is
                if v < lo.as_str() {
                    lo.clear();
                    lo.push_str(v);
                }
                if v > hi.as_str() {
                    hi.clear();
                    hi.push_str(v);
                }
            }
            _ => *self = Bounds::Str(v.to_string(), v.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer_len(bytes: &[u8]) -> usize {
        let n = bytes.len();
        u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize
    }

    #[test]
    fn empty_file_is_magic_footer_length_magic() {
        let w = ParquetWriter::new(Vec::new(), &[("x", ColumnType::F64)]).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
        assert_eq!(footer_len(&bytes) + 12, bytes.len());
    }

    #[test]
    fn one_row_one_column_byte_for_byte() {
        let mut w = ParquetWriter::new(Vec::new(), &[("x", ColumnType::I32)]).unwrap();
        w.write_row(&[Value::I32(7)]).unwrap();
        let bytes = w.finish().unwrap();
        let page = &bytes[4..];
        let header = metadata::data_page_header(1, 4 + 2 + 4);
        assert_eq!(&page[..header.len()], header.as_slice());
        let body = &page[header.len()..header.len() + 10];
        // levels: length 2, RLE run of one 1; value 7
        assert_eq!(body, [2, 0, 0, 0, 0x02, 0x01, 7, 0, 0, 0]);
    }

    #[test]
    fn row_groups_are_cut_every_n_rows() {
        let mut w = ParquetWriter::new(Vec::new(), &[("x", ColumnType::I64)])
            .unwrap()
            .with_row_group_size(3);
        for i in 0..7 {
            w.write_row(&[Value::I64(i)]).unwrap();
        }
        assert_eq!(w.row_groups.len(), 2);
        assert_eq!(w.rows_in_group, 1);
        assert_eq!(w.rows_written(), 7);
        assert!(w.buffers[0].values.len() == 8);
    }

    #[test]
    fn long_strings_cut_row_groups_early() {
        let mut w = ParquetWriter::new(Vec::new(), &[("s", ColumnType::Utf8)]).unwrap();
        w.max_buffered_bytes = 100;
        let s = "x".repeat(40);
        for _ in 0..5 {
            w.write_row(&[Value::Str(&s)]).unwrap();
        }
        // 44 bytes per value: the third row reaches 132 >= 100 bytes
        assert_eq!(w.row_groups.len(), 1);
        assert_eq!(w.row_groups[0].num_rows, 3);
        assert_eq!(w.rows_in_group, 2);
    }

    #[test]
    fn statistics_skip_nulls_and_nans() {
        let mut b = ColumnBuffer::new(ColumnType::F64);
        for v in [
            Value::F64(f64::NAN),
            Value::Null,
            Value::F64(2.0),
            Value::F64(-0.0),
            Value::F64(f64::INFINITY),
        ] {
            b.push(v);
        }
        let s = b.take_statistics();
        assert_eq!(s.null_count, 1);
        assert_eq!(s.nan_count, Some(1));
        let (lo, hi) = s.min_max.unwrap();
        assert_eq!(lo, (-0.0f64).to_le_bytes());
        assert_eq!(hi, f64::INFINITY.to_le_bytes());
        assert!(b.values.is_empty() && b.def_levels.is_empty());

        let mut b = ColumnBuffer::new(ColumnType::Utf8);
        for v in ["b", "é", "a", "ab"] {
            b.push(Value::Str(v));
        }
        let (lo, hi) = b.take_statistics().min_max.unwrap();
        assert_eq!((lo.as_slice(), hi.as_slice()), (&b"a"[..], "é".as_bytes()));

        let mut b = ColumnBuffer::new(ColumnType::Bool);
        b.push(Value::Null);
        let s = b.take_statistics();
        assert_eq!((s.null_count, s.min_max, s.nan_count), (1, None, None));
    }

    #[test]
    fn rejected_rows_change_nothing() {
        let mut w = ParquetWriter::new(
            Vec::new(),
            &[("a", ColumnType::I32), ("b", ColumnType::Utf8)],
        )
        .unwrap();
        w.write_row(&[Value::I32(1), Value::Str("x")]).unwrap();
        let err = w.write_row(&[Value::I32(2)]).unwrap_err();
        assert!(matches!(
            err,
            Error::Arity {
                expected: 2,
                got: 1,
                row: 1
            }
        ));
        let err = w.write_row(&[Value::I32(2), Value::F64(1.0)]).unwrap_err();
        assert!(
            matches!(&err, Error::Type { column, row: 1, expected: ColumnType::Utf8, got: "f64" } if column == "b"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "row 1, column 'b': expected a utf8 value (or null), got f64"
        );
        assert_eq!(w.rows_written(), 1);
        assert_eq!(w.buffers[0].def_levels.len(), 1);
    }

    #[test]
    fn bad_schemas_are_refused() {
        assert!(matches!(
            ParquetWriter::new(Vec::new(), &[]),
            Err(Error::NoColumns)
        ));
        assert!(matches!(
            ParquetWriter::new(Vec::new(), &[("a", ColumnType::I32), ("", ColumnType::I32)]),
            Err(Error::EmptyColumnName { index: 1 })
        ));
        assert!(matches!(
            ParquetWriter::new(Vec::new(), &[("a", ColumnType::I32), ("a", ColumnType::F64)]),
            Err(Error::DuplicateColumn { column }) if column == "a"
        ));
    }
}
