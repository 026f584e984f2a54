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

/// One parameter: an optional name and its raw value, with 1-based columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: Option<String>,
    pub name_col: usize,
    pub value: String,
    pub col: usize,
    /// The value was enclosed in one of `( " ' [ {`.
    pub quoted: bool,
}

impl Param {
    /// Column of the parameter: its name if it has one, else its value.
    pub fn column(&self) -> usize {
        if self.name.is_some() {
            self.name_col
        } else {
            self.col
        }
    }
}

const BEGIN_QUOTES: [char; 5] = ['(', '"', '\'', '[', '{'];
const END_QUOTES: [char; 5] = [')', '"', '\'', ']', '}'];

/// A scanner over one line (or one array value) with OpenDSS's token rules.
pub(crate) struct Scanner<'a> {
    chars: Vec<char>,
    pos: usize,
    /// Extra delimiter (e.g. `|` for matrix rows), besides `,` and `=`.
    extra_delim: Option<char>,
    /// Column offset added to positions (for values inside a line).
    col_offset: usize,
    done: bool,
    _src: std::marker::PhantomData<&'a str>,
}

/// A token: its text, 1-based column, whether quoted, and the delimiter that ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub text: String,
    pub col: usize,
    pub quoted: bool,
    pub delim: char,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str, col_offset: usize, extra_delim: Option<char>) -> Scanner<'a> {
        let mut s = Scanner {
            chars: text.chars().collect(),
            pos: 0,
            extra_delim,
            col_offset,
            done: false,
            _src: std::marker::PhantomData,
        };
        s.skip_ws();
        s
    }

    fn skip_ws(&mut self) {
        while self.pos < self.chars.len()
            && matches!(self.chars[self.pos], ' ' | '\t' | '\r' | '\n')
        {
            self.pos += 1;
        }
    }

    fn is_comment_at(&self, i: usize) -> bool {
        match self.chars.get(i) {
            Some('!') => true,
            Some('/') => self.chars.get(i + 1) == Some(&'/'),
            _ => false,
        }
    }

    fn is_delim_char(&self, c: char) -> bool {
        c == ',' || c == '=' || Some(c) == self.extra_delim
    }

    pub fn at_end(&self) -> bool {
        self.done || self.pos >= self.chars.len()
    }

    /// The next token, or `None` at the end of the text (or at a comment).
    pub fn next_token(&mut self) -> Option<Token> {
        if self.at_end() {
            return None;
        }
        let start = self.pos;
        let col = self.col_offset + start + 1;
        let mut delim = ' ';
        let mut quoted = false;
        let text: String;
        let first = self.chars[start];
        if let Some(q) = BEGIN_QUOTES.iter().position(|&c| c == first) {
            let end = END_QUOTES[q];
            let mut i = start + 1;
            while i < self.chars.len() && self.chars[i] != end {
                i += 1;
            }
            text = self.chars[start + 1..i.min(self.chars.len())]
                .iter()
                .collect();
            self.pos = (i + 1).min(self.chars.len());
            quoted = true;
        } else {
            let mut i = start;
            loop {
                if i >= self.chars.len() {
                    break;
                }
                if self.is_comment_at(i) {
                    delim = '!';
                    break;
                }
                let c = self.chars[i];
                if self.is_delim_char(c) {
                    delim = c;
                    break;
                }
                if matches!(c, ' ' | '\t' | '\r' | '\n') {
                    break;
                }
                i += 1;
            }
            text = self.chars[start..i].iter().collect();
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
        } else if let Some(&c) = self.chars.get(self.pos) {
            if self.is_delim_char(c) {
                delim = c;
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
pub(crate) fn split_params(line: &str) -> Vec<Param> {
    let mut sc = Scanner::new(line, 0, None);
    let mut out = Vec::new();
    while let Some(tok) = sc.next_token() {
        if tok.delim == '=' {
            let value = sc.next_token();
            let (value, col, quoted) = match value {
                Some(v) => (v.text, v.col, v.quoted),
                None => (String::new(), tok.col + tok.text.chars().count() + 1, false),
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
    out
}

/// Split an array value (`1 2 3`, `1,2,3`, `a b`) into element tokens; with `rows`, `|` ends a
/// row and the tokens are grouped per row.
pub(crate) fn split_rows(text: &str, col: usize) -> Vec<Vec<Token>> {
    let mut sc = Scanner::new(text, col, Some('|'));
    let mut rows = vec![Vec::new()];
    while let Some(tok) = sc.next_token() {
        let end_row = tok.delim == '|';
        if !tok.text.is_empty() || tok.quoted {
            if let Some(r) = rows.last_mut() {
                r.push(tok);
            }
        }
        if end_row {
            rows.push(Vec::new());
        }
    }
    while rows.len() > 1 && rows.last().map(|r| r.is_empty()).unwrap_or(false) {
        rows.pop();
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ps: &[Param]) -> Vec<(Option<&str>, &str)> {
        ps.iter()
            .map(|p| (p.name.as_deref(), p.value.as_str()))
            .collect()
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
        let r = split_rows("0.3465 | 0.1560 0.3375 | 0.1580 0.1535 0.3414 ", 0);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].len(), 3);
        let r = split_rows("1,2, (1 2 +)", 0);
        assert_eq!(r[0].len(), 3);
        assert!(r[0][2].quoted);
    }
}
