//! Where the regulation and lexicon files come from: compiled into the binary, or a folder.

use std::collections::BTreeMap;
use std::path::Path;

use super::LexiconError;

/// A set of named text files (paths relative to the lexicon folder, with '/').
#[derive(Debug, Clone, Default)]
pub struct Source {
    files: BTreeMap<String, String>,
}

macro_rules! builtin_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../lexicon/", $path)))),*]
    };
}

/// The files compiled into the binary; a test checks that this list matches the folder.
pub const BUILTIN: &[(&str, &str)] = builtin_files![
    "regulation.toml",
    "bazhou-2024-draft.txt",
    "userdict.txt",
    "rules.txt",
    "summaries.tsv",
    "related.tsv",
    "variants.tsv",
    "concepts/acts.txt",
    "concepts/cases.txt",
    "concepts/english.txt",
    "concepts/gifts.txt",
    "concepts/meta.txt",
    "concepts/people.txt",
    "concepts/requests.txt",
];

impl Source {
    /// The regulation and lexicon shipped with this build.
    pub fn builtin() -> Self {
        Source::from_files(BUILTIN.iter().map(|(p, t)| (p.to_string(), t.to_string())))
    }

    pub fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Self {
        Source {
            files: files.into_iter().collect(),
        }
    }

    /// Reads every text file below `dir` (an edited copy of `lexicon/`).
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        read_dir(dir, dir, &mut files)?;
        Ok(Source { files })
    }

    /// The content of a file, or an error naming it.
    pub fn get(&self, path: &str) -> Result<&str, LexiconError> {
        self.files
            .get(path)
            .map(String::as_str)
            .ok_or_else(|| LexiconError::new(path, 0, "file is missing"))
    }

    /// The `.txt` files directly under a folder prefix such as `concepts/`.
    pub fn files_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.files
            .iter()
            .filter(move |(p, _)| {
                p.starts_with(prefix) && p.ends_with(".txt") && !p[prefix.len()..].contains('/')
            })
            .map(|(p, t)| (p.as_str(), t.as_str()))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Replaces or adds one file (used by tests and by `regulation diff`).
    pub fn with_file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

fn read_dir(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("txt" | "tsv" | "toml")
        ) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let key = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.insert(key, text);
        }
    }
    Ok(())
}
