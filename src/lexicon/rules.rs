//! The rules file: `12.18  6  gift + occasion` — a clause, a weight, and concepts that must all appear.

use super::{Concept, LexiconError, content_lines};
use crate::regulation::{ClauseId, Regulation};

/// One way a question can point at a clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub clause: ClauseId,
    pub weight: f32,
    pub terms: Vec<Term>,
    /// Where the rule was written, for `--explain`.
    pub line: usize,
}

/// A condition on the concepts found in a question; concepts are indexes into the concept list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// The concept appears.
    Has(usize),
    /// The concept does not appear (`!name`).
    Lacks(usize),
    /// The first concept is followed closely by the second (`a~b`).
    Near(usize, usize),
}

pub fn parse(
    file: &str,
    text: &str,
    concepts: &[Concept],
    regulation: &Regulation,
) -> Result<Vec<Rule>, LexiconError> {
    let concept = |line: usize, name: &str| {
        concepts
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| LexiconError::new(file, line, format!("`{name}`: no such concept")))
    };
    let mut rules = Vec::new();
    for (line, content) in content_lines(text) {
        let err = |m: String| LexiconError::new(file, line, m);
        let mut fields = content.split_whitespace();
        let (Some(id), Some(weight)) = (fields.next(), fields.next()) else {
            return Err(err(format!(
                "expected `clause weight concept + concept`, found \"{content}\""
            )));
        };
        let terms: String = fields.collect();
        if terms.is_empty() {
            return Err(err(format!(
                "expected `clause weight concept + concept`, found \"{content}\""
            )));
        };
        let clause: ClauseId = id.parse().map_err(|e| err(format!("{e}")))?;
        if !regulation.contains(clause) {
            return Err(err(format!("clause {clause} is not in the regulation")));
        }
        let weight: f32 = weight
            .parse()
            .ok()
            .filter(|w: &f32| w.is_finite() && *w > 0.0)
            .ok_or_else(|| err(format!("weight `{weight}` is not a positive number")))?;
        let terms = terms
            .split('+')
            .map(|term| {
                let term = term.trim();
                if let Some(name) = term.strip_prefix('!') {
                    Ok(Term::Lacks(concept(line, name.trim())?))
                } else if let Some((a, b)) = term.split_once('~') {
                    Ok(Term::Near(
                        concept(line, a.trim())?,
                        concept(line, b.trim())?,
                    ))
                } else if term.is_empty() {
                    Err(err("empty term between `+`".into()))
                } else {
                    Ok(Term::Has(concept(line, term)?))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if terms.iter().all(|t| matches!(t, Term::Lacks(_))) {
            return Err(err(
                "a rule needs at least one concept that must appear".into()
            ));
        }
        rules.push(Rule {
            clause,
            weight,
            terms,
            line,
        });
    }
    Ok(rules)
}
