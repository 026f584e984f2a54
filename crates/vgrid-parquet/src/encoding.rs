//! # Value and level encodings: PLAIN and the RLE/bit-packed hybrid
//!
//! **PLAIN** stores values back to back, little-endian: `INT32` 4 bytes, `INT64` and `DOUBLE`
//! 8 bytes, `BYTE_ARRAY` a 4-byte length then the bytes, and `BOOLEAN` one bit per value,
//! least significant bit first (`[true, false, true]` → `0b0000_0101`). Nulls are not stored
//! among the values at all: the *definition levels* say which rows have one.
//!
//! **Definition levels** of a flat optional column are 1 (value present) or 0 (null), one per
//! row, written with the **RLE/bit-packed hybrid** at bit width 1. The hybrid is a sequence of
//! runs, each opened by a varint header:
//!
//! * `header = count << 1` — an RLE run: `count` copies of the value that follows in
//!   `ceil(width / 8)` = 1 byte;
//! * `header = groups << 1 | 1` — a bit-packed run of `8 · groups` values, LSB first, `width`
//!   bits each (so one byte per group of 8 at width 1).
//!
//! In a v1 data page the levels are preceded by their byte length as a 4-byte little-endian
//! integer. Example, 10 rows with a null in the third:
//!
//! ```text
//! levels 1 1 0 1 1 1 1 1 | 1 1
//! 03 FB                    bit-packed run of one group: 0b1111_1011
//! 04 01                    RLE run of 2 ones
//! ```
//!
//! This encoder cuts the levels into groups of 8: consecutive groups that are all 0 or all 1
//! become one RLE run, the other groups are gathered into bit-packed runs. A last, partial group
//! is an exact-length RLE run when uniform, else a zero-padded bit-packed group (allowed only at
//! the end, which it is).

use crate::thrift::write_varint;

/// Appends the RLE/bit-packed hybrid encoding (bit width 1) of `levels` (each 0 or 1).
pub(crate) fn encode_levels(levels: &[u8], out: &mut Vec<u8>) {
    let mut packed: Vec<u8> = Vec::new(); // pending bit-packed groups, one byte each
    let mut run: Option<(u8, u64)> = None; // pending RLE run: value, count
    for chunk in levels.chunks(8) {
        let first = chunk[0];
        let uniform = chunk.iter().all(|&l| l == first);
        if uniform {
            // an RLE run (a partial last group may join or open one: it ends the data)
            match &mut run {
                Some((v, n)) if *v == first => *n += chunk.len() as u64,
                _ => {
                    flush_run(&mut run, out);
                    flush_packed(&mut packed, out);
                    run = Some((first, chunk.len() as u64));
                }
            }
        } else {
            flush_run(&mut run, out);
            let mut byte = 0u8;
            for (i, &l) in chunk.iter().enumerate() {
                byte |= (l & 1) << i;
            }
            packed.push(byte);
        }
    }
    flush_run(&mut run, out);
    flush_packed(&mut packed, out);
}

fn flush_run(run: &mut Option<(u8, u64)>, out: &mut Vec<u8>) {
    if let Some((v, n)) = run.take() {
        write_varint(out, n << 1);
        out.push(v);
    }
}

fn flush_packed(packed: &mut Vec<u8>, out: &mut Vec<u8>) {
    if !packed.is_empty() {
        write_varint(out, ((packed.len() as u64) << 1) | 1);
        out.append(packed);
    }
}

/// PLAIN booleans: appends one bit to a bit-packed buffer holding `count` bits so far.
pub(crate) fn push_bool_bit(buf: &mut Vec<u8>, count: usize, v: bool) {
    if count % 8 == 0 {
        buf.push(0);
    }
    if v {
        if let Some(last) = buf.last_mut() {
            *last |= 1 << (count % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(levels: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_levels(levels, &mut out);
        out
    }

    /// A reference decoder: the hybrid at bit width 1, for `n` values.
    fn decode(mut bytes: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < n {
            let mut header = 0u64;
            let mut shift = 0;
            loop {
                let b = bytes[0];
                bytes = &bytes[1..];
                header |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b < 0x80 {
                    break;
                }
            }
            if header & 1 == 0 {
                let v = bytes[0];
                bytes = &bytes[1..];
                out.extend(std::iter::repeat_n(v, (header >> 1) as usize));
            } else {
                let groups = (header >> 1) as usize;
                for &b in &bytes[..groups] {
                    for i in 0..8 {
                        out.push((b >> i) & 1);
                    }
                }
                bytes = &bytes[groups..];
            }
        }
        assert!(bytes.is_empty(), "trailing bytes");
        out.truncate(n);
        out
    }

    #[test]
    fn worked_example_from_the_docs() {
        assert_eq!(
            enc(&[1, 1, 0, 1, 1, 1, 1, 1, 1, 1]),
            [0x03, 0xfb, 0x04, 0x01]
        );
    }

    #[test]
    fn all_present_is_one_run() {
        // 65 536 ones: header 65536 << 1 = 131072 = varint 80 80 08, value 01
        assert_eq!(enc(&vec![1; 65_536]), [0x80, 0x80, 0x08, 0x01]);
        assert_eq!(enc(&[1, 1, 1]), [0x06, 0x01]);
        assert_eq!(enc(&[0; 8]), [0x10, 0x00]);
        assert!(enc(&[]).is_empty());
    }

    #[test]
    fn partial_mixed_group_is_padded() {
        // 16 nulls then 1,0,1: RLE(16 x 0) then a padded bit-packed group 0b101
        assert_eq!(
            enc(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]),
            [0x20, 0x00, 0x03, 0x05]
        );
    }

    #[test]
    fn round_trips_through_a_reference_decoder() {
        // a fixed pseudo-random pattern with long runs and mixed stretches
        let mut state = 0x2545_f491_u32;
        for n in [1usize, 7, 8, 9, 15, 16, 17, 100, 1000, 4099] {
            let mut levels = Vec::with_capacity(n);
            let mut current = 1u8;
            while levels.len() < n {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let len = if state % 3 == 0 {
                    state % 40
                } else {
                    state % 3
                } as usize
                    + 1;
                for _ in 0..len.min(n - levels.len()) {
                    levels.push(current);
                }
                current ^= 1;
            }
            assert_eq!(decode(&enc(&levels), n), levels, "n = {n}");
        }
    }

    #[test]
    fn booleans_lsb_first() {
        let mut buf = Vec::new();
        for (i, v) in [true, false, true, false, false, false, false, false, true]
            .into_iter()
            .enumerate()
        {
            push_bool_bit(&mut buf, i, v);
        }
        assert_eq!(buf, [0b0000_0101, 0b0000_0001]);
    }
}
