//! The regulation as data: its clauses, parsed from the published text, and its metadata.

mod clause_id;
mod diff;
mod metadata;
mod parse;

pub use clause_id::{ClauseId, ClauseIdError};
pub use diff::{Change, diff, render, summary};
pub use metadata::{Metadata, MetadataError, Validity};
pub use parse::ParseError;

use std::collections::HashMap;

/// One citable unit: an article, or an item of an article that lists items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub id: ClauseId,
    /// How the regulation is cited: 第十二条第（十八）项.
    pub citation: String,
    /// The chapter title, e.g. 律师与司法人员接触交往行为负面清单.
    pub chapter: String,
    /// The text exactly as published; paragraphs are separated by '\n'.
    /// For an article that lists items this is the text before the list.
    pub text: String,
    /// The items this article lists (empty for items and for most articles).
    pub items: Vec<ClauseId>,
}

/// A parsed version of the regulation: its title and its clauses in order.
#[derive(Debug, Clone)]
pub struct Regulation {
    pub title: String,
    clauses: Vec<Clause>,
    index: HashMap<ClauseId, usize>,
}

impl Regulation {
    /// Parses the published text; see [`parse::parse`] for what is refused.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let (title, clauses) = parse::parse(text)?;
        let index = clauses.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        Ok(Regulation {
            title,
            clauses,
            index,
        })
    }

    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    pub fn get(&self, id: ClauseId) -> Option<&Clause> {
        self.index.get(&id).map(|&i| &self.clauses[i])
    }

    pub fn contains(&self, id: ClauseId) -> bool {
        self.index.contains_key(&id)
    }

    /// The article that lists items (the negative list, 第十二条 in the 2024 text).
    pub fn list_article(&self) -> Option<&Clause> {
        self.clauses.iter().find(|c| !c.items.is_empty())
    }
}
