//! The lexicon: data files that map everyday expressions onto concepts and concepts onto clauses.

mod concepts;
mod rules;
mod source;
mod tables;

pub use concepts::{Concept, Expression};
pub use rules::{Rule, Term};
pub use source::Source;

use std::collections::HashMap;

use crate::regulation::{ClauseId, Regulation};

/// A line of a lexicon file that cannot be used, named by file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LexiconError {
    pub file: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl LexiconError {
    pub(crate) fn new(file: &str, line: usize, message: impl Into<String>) -> Self {
        LexiconError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

/// A word of the jieba user dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictWord {
    pub word: String,
    pub freq: Option<usize>,
    pub tag: Option<String>,
}

/// Everything the matcher and the replies need besides the regulation itself.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub user_words: Vec<DictWord>,
    pub concepts: Vec<Concept>,
    pub rules: Vec<Rule>,
    /// A short plain-language line for every clause.
    pub summaries: HashMap<ClauseId, String>,
    /// Clauses worth reading together with a clause.
    pub related: HashMap<ClauseId, Vec<ClauseId>>,
    /// Rewrites of dialect, slang and typos into standard words: (from, to).
    pub variants: Vec<(String, String)>,
}

pub const USER_DICT: &str = "userdict.txt";
pub const RULES: &str = "rules.txt";
pub const SUMMARIES: &str = "summaries.tsv";
pub const RELATED: &str = "related.tsv";
pub const VARIANTS: &str = "variants.tsv";
pub const CONCEPTS_DIR: &str = "concepts/";

impl Lexicon {
    /// Loads and checks every lexicon file of `source` against `regulation`.
    pub fn load(source: &Source, regulation: &Regulation) -> Result<Self, LexiconError> {
        let user_words = tables::user_dict(USER_DICT, source.get(USER_DICT)?)?;
        let mut concept_files: Vec<(&str, &str)> = source.files_under(CONCEPTS_DIR).collect();
        concept_files.sort();
        if concept_files.is_empty() {
            return Err(LexiconError::new(
                CONCEPTS_DIR,
                0,
                "no concept files (*.txt)",
            ));
        }
        let concepts = concepts::parse(&concept_files)?;
        let rules = rules::parse(RULES, source.get(RULES)?, &concepts, regulation)?;
        let summaries = tables::summaries(SUMMARIES, source.get(SUMMARIES)?, regulation)?;
        let related = tables::related(RELATED, source.get(RELATED)?, regulation)?;
        let variants = tables::variants(VARIANTS, source.get(VARIANTS)?)?;
        Ok(Lexicon {
            user_words,
            concepts,
            rules,
            summaries,
            related,
            variants,
        })
    }
}

/// Iterates over the lines of a data file that carry content: 1-based numbers, surrounding
/// blanks removed, empty lines and comment lines (starting with `#`) skipped.
pub(crate) fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim();
        (!line.is_empty() && !line.starts_with('#')).then_some((i + 1, line))
    })
}
