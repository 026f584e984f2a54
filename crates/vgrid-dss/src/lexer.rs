//! Splitting one command line into parameters, exactly as OpenDSS's parser does.
//!
//! A line is a sequence of `name=value` pairs and bare values. Separators are blanks, tabs and
//! commas; `=` binds a name to the value after it (blanks around `=` are allowed). A value that
//! starts with one of `( " ' [ {` runs to the first matching `) " ' ] }` (no nesting) and is
//! *quoted*: a quoted number is evaluated as RPN math, so `XHL=(8 1000 /)` means 0.008.
//! `!` and `//` outside quotes end the line.
//!
//! ```text
//! New Line.L1 Bus1=1.2 Bus2=2.2  LineCode=10 Length=(0.175 2 *) units=kft ! comment
//! └─┬┘ └──┬──┘ └──┬──┘ └──┬──┘   ...          └──────┬────────┘
//!  value  value  name=value                  name=quoted value
//! ```

/// One parameter: an optional name and its raw value (slices of the line), with 1-based
/// columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub name: Option<&'a str>,
    pub name_col: usize,
    pub value: &'a str,
    pub col: usize,
    /// The value was enclosed in one of `( " ' [ {`.
    pub quoted: bool,
}

impl Param<'_> {
    /// Column of the parameter: its name if it has one, else its value.
    pub fn column(&self) -> usize {
        if self.name.is_some() {
            self.name_col
        } else {
            self.col
        }
    }
}

/// A [`Param`] that owns its text, for objects that replay properties later (`XfmrCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnedParam {
    pub name: Option<String>,
    pub name_col: usize,
    pub value: String,
    pub col: usize,
    pub quoted: bool,
}

impl OwnedParam {
    pub fn new(p: &Param<'_>) -> OwnedParam {
        OwnedParam {
            name: p.name.map(str::to_string),
            name_col: p.name_col,
            value: p.value.to_string(),
            col: p.col,
            quoted: p.quoted,
        }
    }

    pub fn as_param(&self) -> Param<'_> {
        Param {
            name: self.name.as_deref(),
            name_col: self.name_col,
            value: &self.value,
            col: self.col,
            quoted: self.quoted,
        }
    }
}

/// The closing quote for an opening one.
fn end_quote(c: u8) -> Option<u8> {
    match c {
        b'(' => Some(b')'),
        b'"' => Some(b'"'),
        b'\'' => Some(b'\''),
        b'[' => Some(b']'),
        b'{' => Some(b'}'),
        _ => None,
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Bytes that can end an unquoted token: blanks, delimiters and comment starts (a quick filter
/// before the exact tests).
fn may_end_token(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b',' | b'=' | b'|' | b'!' | b'/'
    )
}

/// A scanner over one line (or one array value) with OpenDSS's token rules. It works on the
/// bytes of the text (every character with a meaning is ASCII, so a multi-byte character is
/// never split) and hands out slices of it.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    /// `|` is a delimiter too (it ends a row of an array value).
    rows: bool,
    /// Column offset added to positions (for values inside a line).
    col_offset: usize,
    /// Byte positions are character positions (the usual case).
    ascii: bool,
    done: bool,
}

/// A token: its text, 1-based column, whether quoted, and the delimiter that ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    pub col: usize,
    pub quoted: bool,
    pub delim: char,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str, col_offset: usize, rows: bool) -> Scanner<'a> {
        let mut s = Scanner {
            text,
            pos: 0,
            rows,
            col_offset,
            ascii: text.is_ascii(),
            done: false,
        };
        s.skip_ws();
        s
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        let b = self.bytes();
        while self.pos < b.len() && is_blank(b[self.pos]) {
            self.pos += 1;
        }
    }

    fn is_comment_at(&self, i: usize) -> bool {
        let b = self.bytes();
        match b.get(i) {
            Some(b'!') => true,
            Some(b'/') => b.get(i + 1) == Some(&b'/'),
            _ => false,
        }
    }

    fn is_delim_char(&self, c: u8) -> bool {
        c == b',' || c == b'=' || (self.rows && c == b'|')
    }

    /// 1-based column of the byte at `pos` (columns count characters).
    fn column_at(&self, pos: usize) -> usize {
        let chars = if self.ascii {
            pos
        } else {
            self.text[..pos].chars().count()
        };
        self.col_offset + chars + 1
    }

    pub fn at_end(&self) -> bool {
        self.done || self.pos >= self.text.len()
    }

    /// The next token, or `None` at the end of the text (or at a comment).
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        if self.at_end() {
            return None;
        }
        let b = self.bytes();
        let start = self.pos;
        let col = self.column_at(start);
        let mut delim = ' ';
        let mut quoted = false;
        let text: &'a str;
        if let Some(end) = end_quote(b[start]) {
            let close = b[start + 1..]
                .iter()
                .position(|&c| c == end)
                .map_or(b.len(), |k| start + 1 + k);
            text = &self.text[start + 1..close];
            self.pos = (close + 1).min(b.len());
            quoted = true;
        } else {
            let mut i = start;
            while i < b.len() {
                let c = b[i];
                if may_end_token(c) {
                    if self.is_comment_at(i) {
                        delim = '!';
                        break;
                    }
                    if self.is_delim_char(c) {
                        delim = char::from(c);
                        break;
                    }
                    if is_blank(c) {
                        break;
                    }
                }
                i += 1;
            }
            text = &self.text[start..i];
            self.pos = i;
            if delim == '!' {
                self.done = true;
                if text.is_empty() {
                    return None;
                }
                return Some(Token {
                    text,
                    col,
                    quoted,
                    delim,
                });
            }
            if delim != ' ' {
                // consume the delimiter itself
                self.pos += 1;
                self.skip_ws();
                return Some(Token {
                    text,
                    col,
                    quoted,
                    delim,
                });
            }
        }
        // After blanks, a delimiter char may still follow (`name = value`).
        self.skip_ws();
        if self.is_comment_at(self.pos) {
            self.done = true;
        } else if let Some(&c) = b.get(self.pos) {
            if self.is_delim_char(c) {
                delim = char::from(c);
                self.pos += 1;
            }
        }
        self.skip_ws();
        Some(Token {
            text,
            col,
            quoted,
            delim,
        })
    }
}

/// Split a command line into parameters. Stops at a comment or at the first empty value
/// (OpenDSS stops there too).
pub(crate) fn split_params(line: &str) -> Vec<Param<'_>> {
    let mut out = Vec::new();
    split_params_into(line, &mut out);
    out
}

/// [`split_params`] into `out` (cleared first), so that one vector serves every line.
pub(crate) fn split_params_into<'a>(line: &'a str, out: &mut Vec<Param<'a>>) {
    out.clear();
    let mut sc = Scanner::new(line, 0, false);
    while let Some(tok) = sc.next_token() {
        if tok.delim == '=' {
            let value = sc.next_token();
            let (value, col, quoted) = match value {
                Some(v) => (v.text, v.col, v.quoted),
                None => ("", tok.col + tok.text.chars().count() + 1, false),
            };
            out.push(Param {
                name: Some(tok.text),
                name_col: tok.col,
                value,
                col,
                quoted,
            });
        } else {
            out.push(Param {
                name: None,
                name_col: tok.col,
                value: tok.text,
                col: tok.col,
                quoted: tok.quoted,
            });
        }
    }
}

/// The elements of an array value (`1 2 3`, `1,2,3`, `a b`, `1 | 2 3`), each with its row:
/// `|` ends a row. Empty elements (`1,,2`) are skipped, as OpenDSS does.
pub(crate) struct Cells<'a> {
    sc: Scanner<'a>,
    row: usize,
}

impl<'a> Iterator for Cells<'a> {
    type Item = (usize, Token<'a>);

    fn next(&mut self) -> Option<(usize, Token<'a>)> {
        loop {
            let tok = self.sc.next_token()?;
            let row = self.row;
            if tok.delim == '|' {
                self.row += 1;
            }
            if !tok.text.is_empty() || tok.quoted {
                return Some((row, tok));
            }
        }
    }
}

/// The cells of an array value starting at column `col` of its line.
pub(crate) fn cells(text: &str, col: usize) -> Cells<'_> {
    Cells {
        sc: Scanner::new(text, col, true),
        row: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(ps: &[Param<'a>]) -> Vec<(Option<&'a str>, &'a str)> {
        ps.iter().map(|p| (p.name, p.value)).collect()
    }

    #[test]
    fn params_and_quotes() {
        let p = split_params(
            "New Transformer.Sub Phases=3 XHL=(8 1000 /) kvs=\"1 2\" conns='wye wye' ! c",
        );
        assert_eq!(
            names(&p),
            vec![
                (None, "New"),
                (None, "Transformer.Sub"),
                (Some("Phases"), "3"),
                (Some("XHL"), "8 1000 /"),
                (Some("kvs"), "1 2"),
                (Some("conns"), "wye wye"),
            ]
        );
        assert!(p[3].quoted);
        assert_eq!(p[2].name_col, 21);
    }

    #[test]
    fn blanks_around_equals_and_commas() {
        let p = split_params("Set VoltageBases = [4.16, 0.48]    ! comment");
        assert_eq!(
            names(&p),
            vec![(None, "Set"), (Some("VoltageBases"), "4.16, 0.48")]
        );
        let p = split_params("kV= 24.900 kW=  60.0,kvar=1//x");
        assert_eq!(
            names(&p),
            vec![
                (Some("kV"), "24.900"),
                (Some("kW"), "60.0"),
                (Some("kvar"), "1")
            ]
        );
    }

    #[test]
    fn rows() {
        let r: Vec<_> = cells("0.3465 | 0.1560 0.3375 | 0.1580 0.1535 0.3414 ", 0).collect();
        assert_eq!(r.len(), 6);
        assert_eq!(r[5].0, 2);
        assert_eq!(r.iter().filter(|(row, _)| *row == 2).count(), 3);
        let r: Vec<_> = cells("1,2, (1 2 +)", 0).collect();
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|(row, _)| *row == 0));
        assert!(r[2].1.quoted);
        assert_eq!(r[2].1.text, "1 2 +");
        let r: Vec<_> = cells("| 1 |", 0).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, 1);
    }

    #[test]
    fn columns_count_characters() {
        let p = split_params("New Load.é kW=1");
        assert_eq!(p[2].name_col, 12);
        assert_eq!(p[2].col, 15);
        let q = split_params("x=\"é\" y=2");
        assert_eq!(q[0].value, "é");
        assert_eq!(q[1].name_col, 7);
    }
}
