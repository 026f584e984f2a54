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
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let ok = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !ok || !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
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
    fn numbers() {
        assert_eq!(parse_number(".85"), Some(0.85));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("-"), None);
    }
}
