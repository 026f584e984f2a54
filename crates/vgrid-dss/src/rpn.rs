//! OpenDSS's inline RPN calculator: a quoted number such as `(0.00625 7 * 1 +)` is evaluated
//! on a stack, like an HP calculator.
//!
//! ```text
//! (0.00625 7 * 1 +)   push 0.00625, push 7, multiply -> 0.04375, push 1, add -> 1.04375
//! (8 1000 /)          8 / 1000 = 0.008
//! (2 sqrt)            1.41421...
//! ```
//! Operators: `+ - * /`, `^` (y to the x), `sqr`, `sqrt`, `inv`, `ln`, `log10`, `exp`, `pi`,
//! trigonometry in degrees (`sin cos tan asin acos atan atan2`), `swap`, `rollup`, `rolldn`.
//! The result is the top of the stack (`X`).

/// Evaluate an RPN expression (without its enclosing brackets).
pub(crate) fn eval(expr: &str) -> Result<f64, String> {
    let mut st: Vec<f64> = Vec::new();
    let mut any = false;
    for tok in expr.split(|c: char| c.is_whitespace() || c == ',') {
        if tok.is_empty() {
            continue;
        }
        any = true;
        if let Some(v) = parse_number(tok) {
            st.push(v);
            continue;
        }
        let pop = |st: &mut Vec<f64>| st.pop().unwrap_or(0.0);
        let lower = tok.to_ascii_lowercase();
        match lower.as_str() {
            "+" | "-" | "*" | "/" | "^" | "atan2" => {
                let x = pop(&mut st);
                let y = pop(&mut st);
                st.push(match lower.as_str() {
                    "+" => y + x,
                    "-" => y - x,
                    "*" => y * x,
                    "/" => y / x,
                    "^" => y.powf(x),
                    _ => y.atan2(x).to_degrees(),
                });
            }
            "sqr" | "sqrt" | "inv" | "ln" | "log10" | "exp" | "sin" | "cos" | "tan" | "asin"
            | "acos" | "atan" => {
                let x = pop(&mut st);
                st.push(match lower.as_str() {
                    "sqr" => x * x,
                    "sqrt" => x.sqrt(),
                    "inv" => 1.0 / x,
                    "ln" => x.ln(),
                    "log10" => x.log10(),
                    "exp" => x.exp(),
                    "sin" => x.to_radians().sin(),
                    "cos" => x.to_radians().cos(),
                    "tan" => x.to_radians().tan(),
                    "asin" => x.asin().to_degrees(),
                    "acos" => x.acos().to_degrees(),
                    _ => x.atan().to_degrees(),
                });
            }
            "pi" => st.push(std::f64::consts::PI),
            "swap" => {
                let x = pop(&mut st);
                let y = pop(&mut st);
                st.push(x);
                st.push(y);
            }
            "rollup" => {
                if let Some(x) = st.pop() {
                    st.insert(0, x);
                }
            }
            "rolldn" => {
                if !st.is_empty() {
                    let y = st.remove(0);
                    st.push(y);
                }
            }
            _ => return Err(format!("invalid inline math entry '{tok}'")),
        }
    }
    if !any {
        return Err("empty value".to_string());
    }
    let x = st.pop().unwrap_or(0.0);
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!(
            "inline math '({expr})' does not give a finite number"
        ))
    }
}

/// A plain decimal number as Pascal's `Val` reads it (no `inf`/`nan`).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = crate::value::trim(s);
    if let Some(v) = fast_decimal(t.as_bytes()) {
        return Some(v); // digits, sign, point and exponent only, finite
    }
    if t.is_empty() {
        return None;
    }
    let ok = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !ok || !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    parse_f64(t).filter(|v| v.is_finite())
}

/// Exactly `s.parse::<f64>().ok()`, faster for the short decimals that fill shape files.
///
/// A decimal `m × 10^e` whose digits fit in 53 bits (`m < 2^53`) and with `|e| ≤ 22` is one
/// correctly rounded IEEE multiplication or division of two exact doubles (Clinger's fast
/// path), so it equals the correctly rounded parse. Anything else goes to the standard parser.
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    fast_decimal(s.as_bytes()).or_else(|| s.parse::<f64>().ok())
}

/// [`parse_f64`] of text given as bytes (`None` if they are not UTF-8).
pub(crate) fn parse_f64_bytes(b: &[u8]) -> Option<f64> {
    fast_decimal(b).or_else(|| std::str::from_utf8(b).ok()?.parse::<f64>().ok())
}

/// Powers of ten that are exact doubles.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Read the ASCII digits at the start of `b` into `m` (wrapping: only trusted for at most 19
/// digits); returns how many there were.
fn read_digits(b: &[u8], m: &mut u64) -> usize {
    let mut n = 0;
    for &d in b {
        if !d.is_ascii_digit() {
            break;
        }
        *m = m.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        n += 1;
    }
    n
}

/// An optional sign at `*i`: whether it is `-`.
fn read_sign(b: &[u8], i: &mut usize) -> bool {
    match b.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    }
}

/// `[+-] digits [. digits] [(e|E) [+-] digits]` with at most 15 digits (so the mantissa is an
/// exact double) and a power of ten within ±22, else `None`.
fn fast_decimal(b: &[u8]) -> Option<f64> {
    match fast_decimal_prefix(b)? {
        (v, n) if n == b.len() => Some(v),
        _ => None,
    }
}

/// The number at the start of `b` within the fast path's limits (see [`fast_decimal`]) and how
/// many bytes it takes; `None` for anything else (a malformed exponent included), to be left to
/// the standard parser.
pub(crate) fn fast_decimal_prefix(b: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let negative = read_sign(b, &mut i);
    let mut m = 0u64;
    let int_digits = read_digits(&b[i..], &mut m);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = read_digits(&b[i..], &mut m);
        i += frac_digits;
    }
    let n = int_digits + frac_digits;
    if n == 0 || n > 15 {
        return None;
    }
    let mut exp = -(frac_digits as i64);
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_e = read_sign(b, &mut i);
        let mut e = 0u64;
        let e_digits = read_digits(&b[i..], &mut e);
        i += e_digits;
        if e_digits == 0 || e_digits > 4 {
            return None;
        }
        exp += if negative_e { -(e as i64) } else { e as i64 };
    }
    let power = *POW10.get(exp.unsigned_abs() as usize)?;
    let v = if exp < 0 {
        m as f64 / power
    } else {
        m as f64 * power
    };
    Some((if negative { -v } else { v }, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert!((eval("0.00625  7  * 1 +").unwrap() - 1.04375).abs() < 1e-15);
        assert!((eval("8 1000 /").unwrap() - 0.008).abs() < 1e-15);
        assert!((eval(".5 1000 /").unwrap() - 0.0005).abs() < 1e-15);
        assert_eq!(eval("2 3 ^").unwrap(), 8.0);
        assert_eq!(eval("1 2 swap -").unwrap(), 1.0);
        assert_eq!(eval("5").unwrap(), 5.0);
        assert!(eval("1 0 /").is_err());
        assert!(eval("1 foo +").is_err());
        assert!(eval("").is_err());
    }

    #[test]
    fn fast_parse_equals_std() {
        let cases = [
            "0.036",
            "-0.0",
            "+5",
            "5.",
            ".5",
            "1e5",
            "1E+5",
            "2.5e-3",
            "0000.0360000",
            "9007199254740991",
            "9007199254740993",
            "123456789012345678901234",
            "0.1",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "3.14159265358979",
            "17976931348623157e292",
            ".",
            "e5",
            "1e",
            "1e+",
            "-",
            "+",
            "",
            "1.2.3",
            "inf",
            "NaN",
            "infinity",
            "1_0",
            " 1",
            "1 ",
            "0x10",
            "1e99999",
            "-1e-99999",
            "4.35",
            "0.3465",
            "-0.920293787",
            "2.851710072",
        ];
        for c in cases {
            let want = c.parse::<f64>().ok();
            let got = parse_f64(c);
            assert_eq!(
                parse_f64_bytes(c.as_bytes()).map(f64::to_bits),
                got.map(f64::to_bits)
            );
            assert_eq!(
                got.map(f64::to_bits),
                want.map(f64::to_bits),
                "{c}: {got:?} vs {want:?}"
            );
        }
        // every 1-7 digit decimal with up to 7 decimals, as shape files write them
        for k in (0..10_000_000u64).step_by(997) {
            for scale in [1u32, 3, 7] {
                let s = format!(
                    "{}.{:0w$}",
                    k / 10u64.pow(scale),
                    k % 10u64.pow(scale),
                    w = scale as usize
                );
                assert_eq!(parse_f64(&s), s.parse::<f64>().ok(), "{s}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_parse_equals_std_on_random_decimals(
            s in "[-+]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][-+]?[0-9]{0,3})?"
        ) {
            let want = s.parse::<f64>().ok().map(f64::to_bits);
            proptest::prop_assert_eq!(parse_f64(&s).map(f64::to_bits), want);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(".85"), Some(0.85));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("-"), None);
    }
}
