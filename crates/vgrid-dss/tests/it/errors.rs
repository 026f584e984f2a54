//! Malformed input: located errors with hints; lenient mode turns unknown names into warnings.
