//! Scores the engine on a question file (id, question, gold, must, category) and reports by category.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::engine::Engine;
use crate::regulation::ClauseId;

/// One row of a question file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    pub question: String,
    /// Clauses a careful lawyer would point to, best first; empty for `none`.
    pub gold: Vec<ClauseId>,
    /// Clauses that must all be among the first three (multi-act questions).
    pub must: Vec<ClauseId>,
    pub category: String,
}

/// A malformed row, by line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CaseError {
    pub line: usize,
    pub message: String,
}

/// Reads a question file; the first line is a header.
pub fn parse(text: &str) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| CaseError {
            line: i + 1,
            message,
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 5 {
            return Err(err(format!(
                "expected 5 tab-separated fields, found {}",
                fields.len()
            )));
        }
        let ids = |s: &str| -> Result<Vec<ClauseId>, CaseError> {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "none")
                .map(|s| s.parse().map_err(|e| err(format!("{e}"))))
                .collect()
        };
        cases.push(Case {
            id: fields[0].to_string(),
            question: fields[1].to_string(),
            gold: ids(fields[2])?,
            must: ids(fields[3])?,
            category: fields[4].trim().to_string(),
        });
    }
    Ok(cases)
}

/// Counts for one group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub n: usize,
    /// Covered questions (gold not `none`).
    pub covered: usize,
    pub top1: usize,
    pub top3: usize,
    /// Questions with `must` ids, and those with all of them in the first three.
    pub must_n: usize,
    pub must3: usize,
    /// `none` questions, and those that got no match.
    pub oos: usize,
    pub oos_rejected: usize,
    /// Questions answered right: first match in gold (and every `must` id shown), or `none` rejected.
    pub correct: usize,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub case: Case,
    pub got: Vec<ClauseId>,
    pub correct: bool,
}

impl Tally {
    fn add(&mut self, case: &Case, got: &[ClauseId]) -> bool {
        self.n += 1;
        let correct = if case.gold.is_empty() {
            self.oos += 1;
            let rejected = got.is_empty();
            self.oos_rejected += usize::from(rejected);
            rejected
        } else {
            self.covered += 1;
            let top1 = got.first().is_some_and(|g| case.gold.contains(g));
            self.top1 += usize::from(top1);
            self.top3 += usize::from(got.iter().take(3).any(|g| case.gold.contains(g)));
            let must_ok = case.must.iter().all(|m| got.iter().take(3).any(|g| g == m));
            if !case.must.is_empty() {
                self.must_n += 1;
                self.must3 += usize::from(must_ok);
            }
            top1 && must_ok
        };
        self.correct += usize::from(correct);
        correct
    }

    fn percent(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            100.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    }

    pub fn top1(&self) -> f64 {
        Self::percent(self.top1, self.covered)
    }
    pub fn top3(&self) -> f64 {
        Self::percent(self.top3, self.covered)
    }
    pub fn must3(&self) -> f64 {
        Self::percent(self.must3, self.must_n)
    }
    pub fn oos_reject(&self) -> f64 {
        Self::percent(self.oos_rejected, self.oos)
    }
    pub fn overall(&self) -> f64 {
        Self::percent(self.correct, self.n)
    }

    /// The figure named `top1`, `top3`, `must3`, `oos_reject` or `overall`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        Some(match name {
            "top1" => self.top1(),
            "top3" => self.top3(),
            "must3" => self.must3(),
            "oos_reject" => self.oos_reject(),
            "overall" => self.overall(),
            _ => return None,
        })
    }

    /// The closing line: `top1=…% top3=…% must3=…% oos_reject=…% overall=…% n=…`.
    pub fn summary_line(&self) -> String {
        format!(
            "top1={:.1}% top3={:.1}% must3={:.1}% oos_reject={:.1}% overall={:.1}% n={}",
            self.top1(),
            self.top3(),
            self.must3(),
            self.oos_reject(),
            self.overall(),
            self.n
        )
    }
}

/// A scored question file: a tally per category and in total, and every outcome.
pub struct Report {
    pub total: Tally,
    pub by_category: BTreeMap<String, Tally>,
    pub outcomes: Vec<Outcome>,
}

/// Asks the engine every question.
pub fn run(engine: &Engine, cases: &[Case]) -> Report {
    let mut total = Tally::default();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for case in cases {
        let got: Vec<ClauseId> = engine
            .answer(&case.question)
            .matches
            .iter()
            .map(|m| m.id)
            .collect();
        let correct = total.add(case, &got);
        by_category
            .entry(case.category.clone())
            .or_default()
            .add(case, &got);
        outcomes.push(Outcome {
            case: case.clone(),
            got,
            correct,
        });
    }
    Report {
        total,
        by_category,
        outcomes,
    }
}

impl Report {
    /// The table by category, the failures if `verbose`, and the summary line last.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10} {:>4} {:>7} {:>7} {:>7} {:>10} {:>8}",
            "category", "n", "top1", "top3", "must3", "oos_reject", "overall"
        );
        let rows = self
            .by_category
            .iter()
            .map(|(c, t)| (c.as_str(), t))
            .chain([("all", &self.total)]);
        for (category, t) in rows {
            let cell = |has: bool, v: f64| {
                if has {
                    format!("{v:.1}%")
                } else {
                    "-".to_string()
                }
            };
            let _ = writeln!(
                out,
                "{:<10} {:>4} {:>7} {:>7} {:>7} {:>10} {:>8}",
                category,
                t.n,
                cell(t.covered > 0, t.top1()),
                cell(t.covered > 0, t.top3()),
                cell(t.must_n > 0, t.must3()),
                cell(t.oos > 0, t.oos_reject()),
                format!("{:.1}%", t.overall())
            );
        }
        if verbose {
            let failures: Vec<&Outcome> = self.outcomes.iter().filter(|o| !o.correct).collect();
            let _ = writeln!(out, "\nfailures ({}):", failures.len());
            for o in failures {
                let ids = |v: &[ClauseId]| {
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    }
                };
                let _ = writeln!(
                    out,
                    "{}\t{}\tgold={}\tgot={}",
                    o.case.id,
                    o.case.question,
                    ids(&o.case.gold),
                    ids(&o.got)
                );
            }
        }
        let _ = writeln!(out, "{}", self.total.summary_line());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(gold: &str, must: &str) -> Case {
        let file = format!("id\tquestion\tgold\tmust\tcategory\nX\tq\t{gold}\t{must}\tscenario\n");
        parse(&file).unwrap().remove(0)
    }

    fn ids(s: &str) -> Vec<ClauseId> {
        s.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    }

    #[test]
    fn tallies_follow_the_definitions() {
        let mut t = Tally::default();
        assert!(t.add(&case("12.15,10", ""), &ids("10,12.15")));
        assert!(!t.add(&case("12.15,10", ""), &ids("12.28,10")));
        assert!(!t.add(
            &case("12.20,12.23", "12.20,12.23"),
            &ids("12.20,10,12.28,12.23")
        ));
        assert!(t.add(&case("none", ""), &ids("")));
        assert!(!t.add(&case("none", ""), &ids("12.15")));
        assert_eq!(
            (
                t.n,
                t.covered,
                t.top1,
                t.top3,
                t.must_n,
                t.must3,
                t.oos,
                t.oos_rejected
            ),
            (5, 3, 2, 3, 1, 0, 2, 1)
        );
        assert_eq!(
            t.summary_line(),
            "top1=66.7% top3=100.0% must3=0.0% oos_reject=50.0% overall=40.0% n=5"
        );
    }

    #[test]
    fn malformed_rows_are_named_by_line() {
        let e = parse("h\nX\tq\t12.1\t\tscenario\nY\tq\t12.x\t\tscenario\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse("h\nX\tq\t12.1\n").is_err());
    }
}
