//! The test grid, and scratch copies of it to break.

use std::path::{Path, PathBuf};

/// `tests/data/tiny`.
pub fn tiny() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny")
}

/// A scratch copy of the tiny grid, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    /// Copy `tests/data/tiny` into a fresh folder named after `name`.
    pub fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("vgrid-simbench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(tiny()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        Scratch { dir }
    }

    /// Replace the first occurrence of `from` by `to` in `file` (which must contain it).
    pub fn edit(&self, file: &str, from: &str, to: &str) -> &Scratch {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        self
    }

    pub fn remove(&self, file: &str) -> &Scratch {
        std::fs::remove_file(self.dir.join(file)).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
