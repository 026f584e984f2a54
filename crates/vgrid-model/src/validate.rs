//! Model validation: every problem at once, each tagged with its element and field.
//!
//! Readers catch syntax; [`Network::validate`] catches what only the whole model shows:
//! references to elements that do not exist, non-positive ratings, phase counts that do not
//! match node lists.
//!
//! ```
//! use vgrid_model::{Network, Severity};
//! let net = Network::default();
//! let problems = net.validate();
//! assert!(problems.iter().any(|p| p.severity == Severity::Error)); // no source
//! ```

use crate::{ElementId, ElementKind, Network};
use serde::{Deserialize, Serialize};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// The network cannot be solved as it stands.
    Error,
    /// Solvable, but probably not what the author meant.
    Warning,
}

/// One problem in a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    /// The element, when the problem belongs to one.
    pub element: Option<ElementId>,
    /// The field (property) concerned, when known.
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}")?;
        if let Some(e) = &self.element {
            write!(f, " in {e}")?;
        }
        if let Some(p) = &self.field {
            write!(f, " ({p})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// True for zero, negative and NaN.
fn not_positive(x: f64) -> bool {
    x.is_nan() || x <= 0.0
}

fn id(kind: ElementKind, name: &str) -> Option<ElementId> {
    Some(ElementId {
        kind,
        name: name.to_string(),
    })
}

impl Network {
    /// Every problem found in the model, errors first.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if !self.sources.iter().any(|s| s.enabled) {
            out.push(Problem {
                severity: Severity::Error,
                element: None,
                field: None,
                message:
                    "the network has no enabled voltage source (New Circuit.<name> creates one)"
                        .into(),
            });
        }
        let mut err2 = |kind, name: &str, field: &str, message: String| {
            out.push(Problem {
                severity: Severity::Error,
                element: id(kind, name),
                field: Some(field.to_string()),
                message,
            })
        };
        for l in &self.lines {
            if l.phases == 0 {
                err2(
                    ElementKind::Line,
                    &l.name,
                    "phases",
                    "a line needs at least one phase".into(),
                );
            }
            if !(l.length_m.is_finite() && l.length_m >= 0.0) {
                err2(
                    ElementKind::Line,
                    &l.name,
                    "length",
                    format!(
                        "length must be a finite, non-negative number, not {}",
                        l.length_m
                    ),
                );
            }
            if l.bus1.bus == l.bus2.bus && !l.is_switch {
                err2(
                    ElementKind::Line,
                    &l.name,
                    "bus2",
                    format!("both ends are on bus '{}'", l.bus1.bus),
                );
            }
            match &l.impedance {
                crate::LineImpedance::Geometry { geometry }
                    if !self.line_geometries.iter().any(|g| &g.name == geometry) =>
                {
                    err2(
                        ElementKind::Line,
                        &l.name,
                        "geometry",
                        format!("LineGeometry '{geometry}' is not defined"),
                    );
                }
                crate::LineImpedance::Spacing { spacing, .. }
                    if !self.line_spacings.iter().any(|g| &g.name == spacing) =>
                {
                    err2(
                        ElementKind::Line,
                        &l.name,
                        "spacing",
                        format!("LineSpacing '{spacing}' is not defined"),
                    );
                }
                _ => {}
            }
        }
        for t in &self.transformers {
            if t.windings.len() < 2 {
                err2(
                    ElementKind::Transformer,
                    &t.name,
                    "windings",
                    "a transformer needs at least two windings".into(),
                );
            }
            for (i, w) in t.windings.iter().enumerate() {
                if not_positive(w.kv) {
                    err2(
                        ElementKind::Transformer,
                        &t.name,
                        "kv",
                        format!("winding {} has kv={}, it must be > 0", i + 1, w.kv),
                    );
                }
                if not_positive(w.kva) {
                    err2(
                        ElementKind::Transformer,
                        &t.name,
                        "kva",
                        format!("winding {} has kva={}, it must be > 0", i + 1, w.kva),
                    );
                }
                if w.bus.bus.is_empty() {
                    err2(
                        ElementKind::Transformer,
                        &t.name,
                        "bus",
                        format!("winding {} is not connected to a bus", i + 1),
                    );
                }
            }
        }
        for l in &self.loads {
            if not_positive(l.kv) {
                err2(
                    ElementKind::Load,
                    &l.name,
                    "kv",
                    format!("kv={} must be > 0", l.kv),
                );
            }
        }
        for r in &self.reg_controls {
            match self.transformer(&r.transformer) {
                None => err2(
                    ElementKind::RegControl,
                    &r.name,
                    "transformer",
                    format!("Transformer '{}' is not defined", r.transformer),
                ),
                Some(t) if r.winding == 0 || r.winding > t.windings.len() => err2(
                    ElementKind::RegControl,
                    &r.name,
                    "winding",
                    format!(
                        "winding {} does not exist on Transformer.{} ({} windings)",
                        r.winding,
                        t.name,
                        t.windings.len()
                    ),
                ),
                _ => {}
            }
        }
        for c in &self.cap_controls {
            if self.capacitor(&c.capacitor).is_none() {
                err2(
                    ElementKind::CapControl,
                    &c.name,
                    "capacitor",
                    format!("Capacitor '{}' is not defined", c.capacitor),
                );
            }
        }
        out.sort_by_key(|p| p.severity != Severity::Error);
        out
    }
}
