//! Located diagnostics and the crate's error type.
//!
//! Every problem the reader finds is a [`Diagnostic`]: where it happened (file, 1-based line and
//! column), what it concerns (element such as `Line.650632`, property such as `length`), what is
//! wrong, and a hint when one can be guessed, e.g. the nearest valid property name:
//!
//! ```text
//! feeder.dss:12:5: Line.650632: property 'lenght': unknown property of Line (hint: did you mean 'length'?)
//! ```
//!
//! Hints come from [`closest`], a plain Levenshtein distance over the candidate names.

use std::fmt;

/// One located message: an error or a warning.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostic {
    /// The script the line came from (as given, or `<text>`/`<command>` for inline input).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column of the offending token; 0 when unknown.
    pub column: usize,
    /// The element concerned, as `Class.name`.
    pub element: Option<String>,
    /// The property concerned.
    pub property: Option<String>,
    pub message: String,
    /// A suggestion, e.g. `did you mean 'kvar'?`.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with only a message; the reader fills in the location.
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            ..Diagnostic::default()
        }
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Diagnostic {
        self.hint = hint;
        self
    }

    pub(crate) fn with_property(mut self, property: &str) -> Diagnostic {
        if self.property.is_none() {
            self.property = Some(property.to_string());
        }
        self
    }

    pub(crate) fn at_column(mut self, column: usize) -> Diagnostic {
        if self.column == 0 {
            self.column = column;
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": ")?;
        if let Some(e) = &self.element {
            write!(f, "{e}: ")?;
        }
        if let Some(p) = &self.property {
            write!(f, "property '{p}': ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// The error of this crate: an input problem, an unreadable file, a refusal by the host, or (with
/// [`crate::ReadOptions::keep_going`]) the summary of every error collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DssError {
    /// The script is malformed or asks for something impossible.
    #[error("{0}")]
    Input(Box<Diagnostic>),
    /// A file named by the script (or the script itself) cannot be read.
    #[error("{0}")]
    Io(Box<Diagnostic>),
    /// The host returned an error for a directive (e.g. `Solve`).
    #[error("{0}")]
    Host(Box<Diagnostic>),
    /// `keep_going` collected several errors; all are in [`crate::Reader::errors`].
    #[error("{count} error(s); the first: {first}")]
    Many {
        count: usize,
        first: Box<Diagnostic>,
    },
}

impl DssError {
    /// The (first) located diagnostic behind this error.
    pub fn diagnostic(&self) -> &Diagnostic {
        match self {
            DssError::Input(d) | DssError::Io(d) | DssError::Host(d) => d,
            DssError::Many { first, .. } => first,
        }
    }
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
/// case-insensitive, over chars: `slove` is 1 from `solve`, 2 from `save`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for j in 0..=b.len() {
        d[j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j - 1] + cost)
                .min(d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean 'x'?` for the closest candidate.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean '{c}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_hint() {
        assert_eq!(edit_distance("lenght", "length"), 1);
        assert_eq!(edit_distance("slove", "solve"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("kvr", ["kw", "kvar", "pf"]).as_deref(),
            Some("did you mean 'kvar'?")
        );
        assert_eq!(did_you_mean("zzzzzz", ["kw", "kvar"]), None);
    }

    #[test]
    fn display_format() {
        let d = Diagnostic {
            file: "feeder.dss".into(),
            line: 12,
            column: 5,
            element: Some("Line.650632".into()),
            property: Some("lenght".into()),
            message: "unknown property of Line".into(),
            hint: Some("did you mean 'length'?".into()),
        };
        assert_eq!(
            d.to_string(),
            "feeder.dss:12:5: Line.650632: property 'lenght': unknown property of Line (hint: did you mean 'length'?)"
        );
    }
}
