//! The small regular-expression subset `BatchEdit` needs, matched without backtracking.
//!
//! `BatchEdit Load..* vmaxpu=1.2` edits every load whose name matches `..*` (any name of at
//! least one character). Like OpenDSS, the pattern is searched anywhere in the (lower-case) name
//! unless anchored with `^`/`$`. Supported: literals, `.`, `*`, `+`, `?`, `^`, `$`, classes
//! `[abc]`, `[a-z]`, `[^0-9]`, and escapes `\.`, `\d`, `\w`, `\s`.
//!
//! Matching simulates the pattern's automaton on the set of live positions, so time is
//! `O(pattern × name)` whatever the pattern.
//!
//! ```text
//! pattern "^s8.*a$"  matches "s860a"  not "xs860a"
//! pattern "sw[0-9]+" matches "line_sw12"
//! ```

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Char(char),
    Class { neg: bool, items: Vec<(char, char)> },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Any => true,
            Atom::Char(x) => *x == c,
            Atom::Class { neg, items } => items.iter().any(|&(a, b)| a <= c && c <= b) != *neg,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rep {
    One,
    Star,
    Plus,
    Opt,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    items: Vec<(Atom, Rep)>,
    anchored_start: bool,
    anchored_end: bool,
}

fn escape_class(c: char) -> Atom {
    let r = |v: &[(char, char)], neg| Atom::Class {
        neg,
        items: v.to_vec(),
    };
    match c {
        'd' => r(&[('0', '9')], false),
        'D' => r(&[('0', '9')], true),
        'w' => r(&[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
        'W' => r(&[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], true),
        's' => r(&[(' ', ' '), ('\t', '\t')], false),
        'S' => r(&[(' ', ' '), ('\t', '\t')], true),
        other => Atom::Char(other),
    }
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.to_lowercase().chars().collect();
        let mut i = 0;
        let mut items: Vec<(Atom, Rep)> = Vec::new();
        let mut anchored_start = false;
        let mut anchored_end = false;
        while i < chars.len() {
            let c = chars[i];
            let atom = match c {
                '^' if i == 0 => {
                    anchored_start = true;
                    i += 1;
                    continue;
                }
                '$' if i + 1 == chars.len() => {
                    anchored_end = true;
                    i += 1;
                    continue;
                }
                '.' => Atom::Any,
                '\\' => {
                    i += 1;
                    match chars.get(i) {
                        Some(&e) => escape_class(e),
                        None => return Err("pattern ends with '\\'".into()),
                    }
                }
                '[' => {
                    let mut j = i + 1;
                    let neg = chars.get(j) == Some(&'^');
                    if neg {
                        j += 1;
                    }
                    let mut set = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(&k) = chars.get(j) else {
                            return Err("unclosed '[' in pattern".into());
                        };
                        if k == ']' && !first {
                            break;
                        }
                        first = false;
                        if chars.get(j + 1) == Some(&'-')
                            && chars.get(j + 2).map(|&e| e != ']').unwrap_or(false)
                        {
                            let hi = chars[j + 2];
                            set.push((k.min(hi), k.max(hi)));
                            j += 3;
                        } else {
                            set.push((k, k));
                            j += 1;
                        }
                    }
                    i = j;
                    Atom::Class { neg, items: set }
                }
                '*' | '+' | '?' => return Err(format!("'{c}' has nothing to repeat")),
                other => Atom::Char(other),
            };
            i += 1;
            let rep = match chars.get(i) {
                Some('*') => Rep::Star,
                Some('+') => Rep::Plus,
                Some('?') => Rep::Opt,
                _ => Rep::One,
            };
            if rep != Rep::One {
                i += 1;
                // collapse stacked quantifiers like `a**`
                while matches!(chars.get(i), Some('*' | '+' | '?')) {
                    i += 1;
                }
            }
            items.push((atom, rep));
        }
        Ok(Regex {
            items,
            anchored_start,
            anchored_end,
        })
    }

    /// Add `state` and every state reachable without input (skipping optional items).
    fn close(&self, states: &mut [bool], mut state: usize) {
        loop {
            if states[state] {
                return;
            }
            states[state] = true;
            match self.items.get(state) {
                Some((_, Rep::Star | Rep::Opt)) => state += 1,
                _ => return,
            }
        }
    }

    /// Whether the pattern matches somewhere in `text` (case-insensitive).
    pub fn is_match(&self, text: &str) -> bool {
        let n = self.items.len();
        let mut cur = vec![false; n + 1];
        self.close(&mut cur, 0);
        let accept = |s: &[bool]| s[n];
        if accept(&cur) && !self.anchored_end {
            return true;
        }
        for c in text.to_lowercase().chars() {
            let mut next = vec![false; n + 1];
            for s in 0..n {
                if !cur[s] {
                    continue;
                }
                let (atom, rep) = &self.items[s];
                if atom.matches(c) {
                    match rep {
                        Rep::Star | Rep::Plus => {
                            self.close(&mut next, s);
                            self.close(&mut next, s + 1);
                        }
                        _ => self.close(&mut next, s + 1),
                    }
                }
            }
            if !self.anchored_start {
                self.close(&mut next, 0);
            }
            cur = next;
            if accept(&cur) && !self.anchored_end {
                return true;
            }
        }
        accept(&cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Regex::new(p).unwrap().is_match(t)
    }

    #[test]
    fn subset() {
        assert!(m("..*", "shape_1"));
        assert!(!m("..*", ""));
        assert!(m(".*", ""));
        assert!(m("^s8.*a$", "s860a"));
        assert!(!m("^s8.*a$", "xs860a"));
        assert!(m("sw[0-9]+", "line_sw12"));
        assert!(!m("^sw[0-9]+$", "sw"));
        assert!(m("LOAD", "load12"));
        assert!(m("a\\.b", "a.b"));
        assert!(!m("a\\.b", "axb"));
        assert!(m("colou?r", "color"));
        assert!(m("[^a-c]", "d"));
        assert!(!m("^[^a-c]$", "b"));
        assert!(Regex::new("[abc").is_err());
        assert!(Regex::new("*a").is_err());
    }

    #[test]
    fn no_blowup() {
        let p = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let t = "a".repeat(2000);
        assert!(!m(&format!("^{p}$"), &t));
    }
}
