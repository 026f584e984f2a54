//! Finding and reading the files a script names.
//!
//! Paths are relative to the directory of the script being read (or the directory set by the
//! last `Compile`/`CD`). Scripts written on Windows often disagree with the disk about letter
//! case (`IEEELineCodes.dss` vs `IEEELineCodes.DSS`): when the exact path does not exist, each
//! component is matched case-insensitively against the directory listing.

use std::path::{Component, Path, PathBuf};

/// Resolve `name` against `base`, tolerating letter-case differences. Returns the path to use
/// (the case-corrected one when it exists, else the plain join).
pub(crate) fn resolve(base: &Path, name: &str) -> PathBuf {
    let name = name.trim().trim_matches('"').trim_matches('\'');
    let name = name.replace('\\', "/");
    let p = Path::new(&name);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    if joined.exists() {
        return joined;
    }
    case_insensitive(&joined).unwrap_or(joined)
}

fn case_insensitive(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::Normal(part) => {
                let candidate = out.join(part);
                if candidate.exists() {
                    out = candidate;
                    continue;
                }
                let wanted = part.to_string_lossy().to_lowercase();
                let dir = if out.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    out.clone()
                };
                let found = std::fs::read_dir(&dir)
                    .ok()?
                    .filter_map(|e| e.ok())
                    .find(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)?;
                out = out.join(found.file_name());
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// Read a text file, tolerating a UTF-8 BOM and non-UTF-8 bytes (read as Latin-1).
pub(crate) fn read_text(path: &Path) -> std::io::Result<String> {
    let mut bytes = std::fs::read(path)?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_lookup() {
        let dir = std::env::temp_dir().join(format!("vgrid-dss-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("Sub")).unwrap();
        std::fs::write(dir.join("Sub").join("Codes.DSS"), "x").unwrap();
        let r = resolve(&dir, "sub/codes.dss");
        assert!(r.exists(), "{r:?}");
        let r = resolve(&dir, "\"Sub\\Codes.DSS\"");
        assert!(r.exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
