//! The one error type of this crate.

use vgrid_model::ElementId;

/// Why the network could not be lowered to the solver model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// An element's data cannot give a primitive matrix (zero impedance, singular, missing data).
    #[error("{element}: {message}")]
    Element { element: ElementId, message: String },
    /// A reference to something that does not exist (a geometry, a wire, a transformer).
    #[error("{element}: {what} '{name}' is not defined")]
    Missing {
        element: ElementId,
        what: &'static str,
        name: String,
    },
    /// The network as a whole cannot be solved (no source, ...).
    #[error("{0}")]
    Network(String),
}

impl NetworkError {
    /// Shorthand for [`NetworkError::Element`].
    pub fn element(kind: vgrid_model::ElementKind, name: &str, message: impl Into<String>) -> Self {
        NetworkError::Element {
            element: ElementId {
                kind,
                name: name.to_string(),
            },
            message: message.into(),
        }
    }
}
