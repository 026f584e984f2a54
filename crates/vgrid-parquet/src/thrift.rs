//! # The Thrift compact protocol, write side only
//!
//! Parquet's metadata (page headers and the file footer) are Thrift structs serialised with the
//! *compact protocol*. Only four ideas are needed to write it:
//!
//! * **varint** (ULEB128): 7 bits per byte, least significant group first, the high bit set on
//!   every byte but the last. `300 = 0b10_0101100` → `AC 02`.
//! * **zigzag**: signed integers are first folded onto the unsigned ones, `0, -1, 1, -2, 2, ...`
//!   → `0, 1, 2, 3, 4, ...` (`(n << 1) ^ (n >> 63)`), so small negative numbers stay short.
//!   `i16`, `i32` and `i64` are zigzag varints; enums are `i32`.
//! * **field header**: each field of a struct starts with one byte `(delta << 4) | type`, where
//!   `delta` is the field id minus the previous field id of the same struct (1..=15). Otherwise
//!   (a jump of more than 15, or a smaller id) the byte is `type` alone followed by the id as a
//!   zigzag varint. A boolean field carries its value in the type nibble (1 = true, 2 = false).
//!   A struct ends with a stop byte `00`; a nested struct counts its field ids from 0 again.
//! * **list header**: `(size << 4) | element_type` when `size < 15`, else `F0 | element_type`
//!   followed by the size as a varint. Elements follow without field headers.
//!
//! Binary and string values are a varint length followed by the bytes.
//!
//! Example, a struct `{1: i32 = 5, 3: string = "ab"}`:
//!
//! ```text
//! 15 0A        field 1 (delta 1), type i32 (5); zigzag(5) = 10
//! 28 02 61 62  field 3 (delta 2), type binary (8); length 2, "ab"
//! 00           stop
//! ```
//!
//! The type codes are those of the compact protocol (`CompactType` in the source).

/// The element and field type codes of the compact protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CompactType {
    BoolTrue = 1,
    BoolFalse = 2,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    Binary = 8,
    List = 9,
    Struct = 12,
}

/// Appends zigzag varints, field headers, lists and nested structs to a byte buffer.
///
/// Callers write fields in increasing id order (not required by the protocol, but it keeps every
/// header in its one-byte form).
#[derive(Debug, Default)]
pub(crate) struct CompactWriter {
    pub(crate) buf: Vec<u8>,
    /// The last field id written in each enclosing struct (the innermost one is `last_id`).
    outer_ids: Vec<i16>,
    last_id: i16,
}

/// Appends `v` as a ULEB128 varint.
pub(crate) fn write_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Zigzag folding of a signed 64-bit integer.
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

impl CompactWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A field header for field `id` of type `ty`.
    fn field_header(&mut self, id: i16, ty: CompactType) {
        let delta = i32::from(id) - i32::from(self.last_id);
        if (1..=15).contains(&delta) {
            self.buf.push(((delta as u8) << 4) | ty as u8);
        } else {
            self.buf.push(ty as u8);
            write_varint(&mut self.buf, zigzag(i64::from(id)));
        }
        self.last_id = id;
    }

    pub(crate) fn i32_field(&mut self, id: i16, v: i32) {
        self.field_header(id, CompactType::I32);
        write_varint(&mut self.buf, zigzag(i64::from(v)));
    }

    pub(crate) fn i16_field(&mut self, id: i16, v: i16) {
        self.field_header(id, CompactType::I16);
        write_varint(&mut self.buf, zigzag(i64::from(v)));
    }

    pub(crate) fn i64_field(&mut self, id: i16, v: i64) {
        self.field_header(id, CompactType::I64);
        write_varint(&mut self.buf, zigzag(v));
    }

    pub(crate) fn bool_field(&mut self, id: i16, v: bool) {
        let ty = if v {
            CompactType::BoolTrue
        } else {
            CompactType::BoolFalse
        };
        self.field_header(id, ty);
    }

    pub(crate) fn binary_field(&mut self, id: i16, v: &[u8]) {
        self.field_header(id, CompactType::Binary);
        self.binary(v);
    }

    /// A binary (or string) value without a field header: a list element.
    pub(crate) fn binary(&mut self, v: &[u8]) {
        write_varint(&mut self.buf, v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    /// An `i32` value without a field header: a list element.
    pub(crate) fn i32(&mut self, v: i32) {
        write_varint(&mut self.buf, zigzag(i64::from(v)));
    }

    /// Opens a list field of `len` elements of type `elem`; the elements follow.
    pub(crate) fn list_field(&mut self, id: i16, elem: CompactType, len: usize) {
        self.field_header(id, CompactType::List);
        if len < 15 {
            self.buf.push(((len as u8) << 4) | elem as u8);
        } else {
            self.buf.push(0xf0 | elem as u8);
            write_varint(&mut self.buf, len as u64);
        }
    }

    /// Opens a struct-valued field; close it with [`CompactWriter::struct_end`].
    pub(crate) fn struct_field(&mut self, id: i16) {
        self.field_header(id, CompactType::Struct);
        self.struct_begin();
    }

    /// Opens a struct without a field header: the top-level struct or a list element.
    pub(crate) fn struct_begin(&mut self) {
        self.outer_ids.push(self.last_id);
        self.last_id = 0;
    }

    /// Writes the stop byte and returns to the enclosing struct's field ids.
    pub(crate) fn struct_end(&mut self) {
        self.buf.push(0);
        self.last_id = self.outer_ids.pop().unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(v: u64) -> Vec<u8> {
        let mut b = Vec::new();
        write_varint(&mut b, v);
        b
    }

    #[test]
    fn varints_by_hand() {
        assert_eq!(varint(0), [0x00]);
        assert_eq!(varint(1), [0x01]);
        assert_eq!(varint(127), [0x7f]);
        assert_eq!(varint(128), [0x80, 0x01]);
        // 300 = 0b10_0101100: low group 0101100 with continuation, then 10
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(varint(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn zigzag_by_hand() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
        assert_eq!(zigzag(2), 4);
        assert_eq!(zigzag(-64), 127);
        assert_eq!(zigzag(64), 128);
        assert_eq!(zigzag(i64::from(i32::MAX)), 4_294_967_294);
        assert_eq!(zigzag(i64::from(i32::MIN)), 4_294_967_295);
        assert_eq!(zigzag(i64::MAX), u64::MAX - 1);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn short_and_long_field_headers() {
        let mut w = CompactWriter::new();
        w.struct_begin();
        w.i32_field(1, 5); // delta 1, type 5: 0x15; zigzag(5) = 10
        w.binary_field(3, b"ab"); // delta 2, type 8: 0x28
        w.i64_field(20, -1); // delta 17 > 15: long form 0x06, zigzag(20) = 40 = 0x28
        w.i32_field(2, 0); // smaller id: long form 0x05, zigzag(2) = 4
        w.bool_field(3, true); // delta 1, true: 0x11
        w.bool_field(4, false); // delta 1, false: 0x12
        w.i16_field(5, -3); // delta 1, type 4: 0x14; zigzag(-3) = 5
        w.struct_end();
        assert_eq!(
            w.buf,
            [
                0x15, 0x0a, 0x28, 0x02, b'a', b'b', 0x06, 0x28, 0x01, 0x05, 0x04, 0x00, 0x11, 0x12,
                0x14, 0x05, 0x00
            ]
        );
    }

    #[test]
    fn delta_of_fifteen_is_still_short() {
        let mut w = CompactWriter::new();
        w.struct_begin();
        w.i32_field(15, 1);
        w.i32_field(16, 1);
        w.struct_end();
        assert_eq!(w.buf, [0xf5, 0x02, 0x15, 0x02, 0x00]);
    }

    #[test]
    fn nested_structs_restart_field_ids() {
        let mut w = CompactWriter::new();
        w.struct_begin();
        w.i32_field(1, 1); // 15 02
        w.struct_field(5); // delta 4, type 12: 0x4c
        w.i32_field(1, 2); // inner field 1: delta 1 again: 15 04
        w.struct_end(); // 00
        w.i32_field(6, 3); // outer delta 1 from field 5: 15 06
        w.struct_end(); // 00
        assert_eq!(
            w.buf,
            [0x15, 0x02, 0x4c, 0x15, 0x04, 0x00, 0x15, 0x06, 0x00]
        );
    }

    #[test]
    fn list_headers() {
        let mut w = CompactWriter::new();
        w.struct_begin();
        w.list_field(2, CompactType::I32, 3); // 0x29, then size 3 type 5: 0x35
        for v in [0, -1, 1] {
            w.i32(v);
        }
        w.list_field(3, CompactType::Binary, 15); // 0x19, then F8 0F
        for _ in 0..15 {
            w.binary(b"");
        }
        w.list_field(4, CompactType::Struct, 1); // 0x19, then 0x1c
        w.struct_begin();
        w.i64_field(1, 7); // 16 0e
        w.struct_end();
        w.struct_end();
        let mut expected = vec![0x29, 0x35, 0x00, 0x01, 0x02, 0x19, 0xf8, 0x0f];
        expected.extend([0u8; 15]);
        expected.extend([0x19, 0x1c, 0x16, 0x0e, 0x00, 0x00]);
        assert_eq!(w.buf, expected);
    }
}
