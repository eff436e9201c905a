//! Finds the lexicon's concepts in a question and scores clauses by the rules they satisfy.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use jieba_rs::Jieba;

use crate::lexicon::{Expression, Lexicon, Rule, Term};
use crate::regulation::ClauseId;

/// A clause below this score is not an answer.
pub const THRESHOLD: f32 = 3.0;
/// A clause after the first is shown only if it scores at least this share of the first.
pub const SECONDARY_RATIO: f32 = 0.5;
/// The most clauses one answer shows.
pub const MAX_MATCHES: usize = 3;
/// The second-best rule a clause satisfies adds this share of its weight.
const EXTRA_RULE_SHARE: f32 = 0.25;
/// At most this many characters between the parts of a `借*车` expression.
const SEQUENCE_GAP: usize = 6;
/// At most this many characters between the two concepts of an `a~b` term.
const NEAR_GAP: usize = 4;

/// A clause the lexicon points at, with the rules (by line of rules.txt) that point there.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub id: ClauseId,
    pub score: f32,
    pub rules: Vec<usize>,
}

struct Literal {
    /// Contains ASCII letters: must start and end on a word boundary.
    english: bool,
    /// Expressions whose first part this is.
    starts: Vec<usize>,
}

struct CompiledExpression {
    /// Automaton pattern ids, in order.
    parts: Vec<usize>,
    concepts: Vec<usize>,
}

/// The compiled lexicon: one automaton over every expression part.
pub struct Matcher {
    automaton: AhoCorasick,
    literals: Vec<Literal>,
    /// Single CJK characters, matched only when jieba cuts them out as a word: expression ids.
    token_expressions: HashMap<String, Vec<usize>>,
    expressions: Vec<CompiledExpression>,
    rules: Vec<Rule>,
    concepts: usize,
}

type Span = (usize, usize);

impl Matcher {
    /// Compiles the lexicon; `rewrite` is applied to every expression the way it is applied to
    /// questions, so that an expression written in dialect (咋判) still matches (怎么判).
    pub fn new(lexicon: &Lexicon, rewrite: impl Fn(&str) -> String) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_ids: HashMap<String, usize> = HashMap::new();
        let mut expression_ids: HashMap<&Expression, usize> = HashMap::new();
        let mut expressions: Vec<CompiledExpression> = Vec::new();
        let mut token_expressions: HashMap<String, Vec<usize>> = HashMap::new();
        for (concept, c) in lexicon.concepts.iter().enumerate() {
            for expression in &c.expressions {
                if let Some(&id) = expression_ids.get(expression) {
                    expressions[id].concepts.push(concept);
                    continue;
                }
                let id = expressions.len();
                expression_ids.insert(expression, id);
                let parts: Vec<String> = match expression {
                    Expression::Literal(text) if is_single_cjk(text) => {
                        token_expressions.entry(rewrite(text)).or_default().push(id);
                        vec![]
                    }
                    Expression::Literal(text) => vec![rewrite(text)],
                    Expression::Sequence(parts) => parts.iter().map(|p| rewrite(p)).collect(),
                };
                let parts = parts
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let next = patterns.len();
                        *pattern_ids.entry(p.clone()).or_insert_with(|| {
                            patterns.push(p);
                            next
                        })
                    })
                    .collect();
                expressions.push(CompiledExpression {
                    parts,
                    concepts: vec![concept],
                });
            }
        }
        let mut literals: Vec<Literal> = patterns
            .iter()
            .map(|p| Literal {
                english: p.bytes().any(|b| b.is_ascii_alphabetic()),
                starts: vec![],
            })
            .collect();
        for (id, e) in expressions.iter().enumerate() {
            if let Some(&first) = e.parts.first() {
                literals[first].starts.push(id);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("lexicon patterns fit an automaton");
        Matcher {
            automaton,
            literals,
            token_expressions,
            expressions,
            rules: lexicon.rules.clone(),
            concepts: lexicon.concepts.len(),
        }
    }

    /// The clauses a normalised question points at, best first, above the threshold.
    pub fn score(&self, text: &str, jieba: &Jieba) -> Vec<Scored> {
        let found = self.concepts_in(text, jieba);
        let mut by_clause: Vec<(Scored, f32)> = Vec::new();
        for rule in &self.rules {
            if !rule.terms.iter().all(|t| holds(*t, &found, text)) {
                continue;
            }
            match by_clause.iter_mut().find(|(s, _)| s.id == rule.clause) {
                Some((s, second)) => {
                    s.rules.push(rule.line);
                    if rule.weight > s.score {
                        *second = s.score;
                        s.score = rule.weight;
                    } else {
                        *second = second.max(rule.weight);
                    }
                }
                None => by_clause.push((
                    Scored {
                        id: rule.clause,
                        score: rule.weight,
                        rules: vec![rule.line],
                    },
                    0.0,
                )),
            }
        }
        let mut by_clause: Vec<Scored> = by_clause
            .into_iter()
            .map(|(mut s, second)| {
                s.score += EXTRA_RULE_SHARE * second;
                s
            })
            .collect();
        by_clause.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        let cut = by_clause.first().map_or(THRESHOLD, |top| {
            (top.score * SECONDARY_RATIO).max(THRESHOLD)
        });
        by_clause.retain(|s| s.score >= cut);
        by_clause.truncate(MAX_MATCHES);
        by_clause
    }

    /// For each concept, where it appears in the text (byte spans).
    pub fn concepts_in(&self, text: &str, jieba: &Jieba) -> Vec<Vec<Span>> {
        let mut hits: Vec<(usize, Span)> = Vec::new();
        for m in self.automaton.find_overlapping_iter(text) {
            let span = (m.start(), m.end());
            let pattern = m.pattern().as_usize();
            if !self.literals[pattern].english || on_word_boundary(text, span) {
                hits.push((pattern, span));
            }
        }
        let mut found: Vec<Vec<Span>> = vec![Vec::new(); self.concepts];
        let mut record = |expression: usize, span: Span| {
            for &c in &self.expressions[expression].concepts {
                found[c].push(span);
            }
        };
        for &(pattern, (start, end)) in &hits {
            for &e in &self.literals[pattern].starts {
                if let Some(end) =
                    self.rest_of_sequence(text, &hits, &self.expressions[e].parts[1..], end)
                {
                    record(e, (start, end));
                }
            }
        }
        if !self.token_expressions.is_empty() {
            for token in jieba.cut(text, true) {
                for &e in self.token_expressions.get(token.word).into_iter().flatten() {
                    record(e, (token.byte_start, token.byte_end));
                }
            }
        }
        found
    }

    /// Where the remaining parts of a sequence end, if each follows the last within the gap.
    fn rest_of_sequence(
        &self,
        text: &str,
        hits: &[(usize, Span)],
        parts: &[usize],
        mut end: usize,
    ) -> Option<usize> {
        for &part in parts {
            end = hits
                .iter()
                .filter(|&&(p, (s, _))| p == part && s >= end && gap(text, end, s) <= SEQUENCE_GAP)
                .map(|&(_, (_, e))| e)
                .min()?;
        }
        Some(end)
    }
}

fn holds(term: Term, found: &[Vec<Span>], text: &str) -> bool {
    match term {
        Term::Has(c) => !found[c].is_empty(),
        Term::Lacks(c) => found[c].is_empty(),
        // b starts after a ends (within the gap), or inside a word that begins with a (我 / 我妈).
        Term::Near(a, b) => found[a].iter().any(|&(a_start, a_end)| {
            found[b].iter().any(|&(b_start, _)| {
                b_start >= a_start && (b_start <= a_end || gap(text, a_end, b_start) <= NEAR_GAP)
            })
        }),
    }
}

fn gap(text: &str, from: usize, to: usize) -> usize {
    text[from..to].chars().count()
}

fn is_single_cjk(text: &str) -> bool {
    let mut chars = text.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_ascii())
}

/// An English expression must not start or end inside a word; plural and past endings are fine.
fn on_word_boundary(text: &str, (start, end): Span) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric();
    if text[..start].chars().next_back().is_some_and(is_word) {
        return false;
    }
    let rest = &text[end..];
    let word_end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
    matches!(
        &rest[..word_end],
        "" | "s" | "es" | "d" | "ed" | "ing" | "'s"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_match_on_boundaries_with_endings() {
        let t = "the judges' wife and judge's car, adjudged";
        let at = |w: &str, from: usize| {
            let s = t[from..].find(w).unwrap() + from;
            (s, s + w.len())
        };
        assert!(on_word_boundary(t, at("judge", 0)));
        assert!(on_word_boundary(t, at("judge", 20)));
        assert!(!on_word_boundary(t, at("judge", 35)));
        assert!(!on_word_boundary("wifely", (0, 4)));
    }
}
