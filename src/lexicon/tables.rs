//! The small tables: the jieba user dictionary, clause summaries, related clauses.

use std::collections::HashMap;

use super::{DictWord, LexiconError, content_lines};
use crate::regulation::{ClauseId, Regulation};

/// `word [frequency] [tag]`, the format of jieba's dictionaries.
pub fn user_dict(file: &str, text: &str) -> Result<Vec<DictWord>, LexiconError> {
    content_lines(text)
        .map(|(line, content)| {
            let mut fields = content.split_whitespace();
            let word = fields.next().unwrap_or_default().to_string();
            let freq = match fields.next() {
                Some(f) => Some(f.parse().map_err(|_| {
                    LexiconError::new(
                        file,
                        line,
                        format!("frequency `{f}` of `{word}` is not a whole number"),
                    )
                })?),
                None => None,
            };
            let tag = fields.next().map(str::to_string);
            if let Some(extra) = fields.next() {
                return Err(LexiconError::new(
                    file,
                    line,
                    format!("unexpected `{extra}` after `word frequency tag`"),
                ));
            }
            Ok(DictWord { word, freq, tag })
        })
        .collect()
}

/// `clause<TAB>summary`; every clause of the regulation must have one.
pub fn summaries(
    file: &str,
    text: &str,
    regulation: &Regulation,
) -> Result<HashMap<ClauseId, String>, LexiconError> {
    let mut summaries = HashMap::new();
    for (line, content) in content_lines(text) {
        let (id, summary) = split_tab(file, line, content)?;
        let id = clause(file, line, id, regulation)?;
        if summaries.insert(id, summary.trim().to_string()).is_some() {
            return Err(LexiconError::new(
                file,
                line,
                format!("clause {id} has a summary already"),
            ));
        }
    }
    if let Some(missing) = regulation
        .clauses()
        .iter()
        .find(|c| !summaries.contains_key(&c.id))
    {
        return Err(LexiconError::new(
            file,
            0,
            format!("clause {} has no summary", missing.id),
        ));
    }
    Ok(summaries)
}

/// `clause<TAB>clause, clause`: what to read together with a clause.
pub fn related(
    file: &str,
    text: &str,
    regulation: &Regulation,
) -> Result<HashMap<ClauseId, Vec<ClauseId>>, LexiconError> {
    let mut related: HashMap<ClauseId, Vec<ClauseId>> = HashMap::new();
    for (line, content) in content_lines(text) {
        let (id, others) = split_tab(file, line, content)?;
        let id = clause(file, line, id, regulation)?;
        for other in others
            .split([',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let other = clause(file, line, other, regulation)?;
            let list = related.entry(id).or_default();
            if other != id && !list.contains(&other) {
                list.push(other);
            }
        }
    }
    Ok(related)
}

/// `from<TAB>to`: a word as people type it and the standard word it stands for; `∅` deletes it.
pub fn variants(file: &str, text: &str) -> Result<Vec<(String, String)>, LexiconError> {
    let mut variants: Vec<(String, String)> = Vec::new();
    for (line, content) in content_lines(text) {
        let (from, to) = split_tab(file, line, content)?;
        let from = from.to_lowercase();
        if variants.iter().any(|(f, _)| *f == from) {
            return Err(LexiconError::new(
                file,
                line,
                format!("`{from}` is rewritten already"),
            ));
        }
        let to = if to == "∅" {
            String::new()
        } else {
            to.to_lowercase()
        };
        variants.push((from, to));
    }
    Ok(variants)
}

fn split_tab<'a>(
    file: &str,
    line: usize,
    content: &'a str,
) -> Result<(&'a str, &'a str), LexiconError> {
    content
        .split_once('\t')
        .map(|(a, b)| (a.trim(), b.trim()))
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| {
            LexiconError::new(
                file,
                line,
                format!("expected `clause<TAB>text`, found \"{content}\""),
            )
        })
}

fn clause(
    file: &str,
    line: usize,
    id: &str,
    regulation: &Regulation,
) -> Result<ClauseId, LexiconError> {
    let parsed: ClauseId = id
        .parse()
        .map_err(|e| LexiconError::new(file, line, format!("{e}")))?;
    if regulation.contains(parsed) {
        Ok(parsed)
    } else {
        Err(LexiconError::new(
            file,
            line,
            format!("clause {parsed} is not in the regulation"),
        ))
    }
}
