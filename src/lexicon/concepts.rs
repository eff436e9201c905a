//! Concept files: `name: 表达 表达 @other_concept`, one concept per line or several lines each.

use std::collections::HashMap;

use super::{LexiconError, content_lines};

/// How a concept shows up in a question.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expression {
    /// A word or phrase, lower case; `_` in the file stands for a space (`red_packet`). A single
    /// Chinese character matches only where jieba cuts it out as a word of its own.
    Literal(String),
    /// Parts in this order with at most a few characters between them (`借*车`); a single
    /// part (`=我`) is matched anywhere in the text, even one character long.
    Sequence(Vec<String>),
}

/// A named set of expressions, with the expressions of the concepts it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concept {
    pub name: String,
    pub expressions: Vec<Expression>,
}

struct Draft<'a> {
    file: &'a str,
    line: usize,
    expressions: Vec<Expression>,
    includes: Vec<(&'a str, usize, String)>,
}

/// Parses all concept files together, so that a concept may include one from another file.
pub fn parse(files: &[(&str, &str)]) -> Result<Vec<Concept>, LexiconError> {
    let mut order: Vec<String> = Vec::new();
    let mut drafts: HashMap<String, Draft> = HashMap::new();
    for &(file, text) in files {
        for (line, content) in content_lines(text) {
            let err = |m: String| LexiconError::new(file, line, m);
            let Some((name, body)) = content.split_once(':') else {
                return Err(err(format!(
                    "expected `name: expressions`, found \"{content}\""
                )));
            };
            let name = name.trim();
            if !is_name(name) {
                return Err(err(format!(
                    "`{name}` is not a concept name (lower-case ASCII letters, digits, _)"
                )));
            }
            let draft = drafts.entry(name.to_string()).or_insert_with(|| {
                order.push(name.to_string());
                Draft {
                    file,
                    line,
                    expressions: Vec::new(),
                    includes: Vec::new(),
                }
            });
            for word in body.split_whitespace() {
                if let Some(other) = word.strip_prefix('@') {
                    draft.includes.push((file, line, other.to_string()));
                } else {
                    draft.expressions.push(expression(word).map_err(err)?);
                }
            }
        }
    }
    order
        .iter()
        .map(|name| {
            let mut expressions = Vec::new();
            collect(name, &drafts, &mut vec![name.as_str()], &mut expressions)?;
            expressions.sort();
            expressions.dedup();
            if expressions.is_empty() {
                let d = &drafts[name];
                return Err(LexiconError::new(
                    d.file,
                    d.line,
                    format!("concept `{name}` has no expressions"),
                ));
            }
            Ok(Concept {
                name: name.clone(),
                expressions,
            })
        })
        .collect()
}

fn collect<'a>(
    name: &str,
    drafts: &'a HashMap<String, Draft>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<Expression>,
) -> Result<(), LexiconError> {
    let draft = &drafts[name];
    out.extend(draft.expressions.iter().cloned());
    for (file, line, other) in &draft.includes {
        let Some((key, _)) = drafts.get_key_value(other.as_str()) else {
            return Err(LexiconError::new(
                file,
                *line,
                format!("@{other}: no such concept"),
            ));
        };
        if path.contains(&key.as_str()) {
            return Err(LexiconError::new(
                file,
                *line,
                format!(
                    "@{other}: concepts include each other ({} → {other})",
                    path.join(" → ")
                ),
            ));
        }
        path.push(key);
        collect(key, drafts, path, out)?;
        path.pop();
    }
    Ok(())
}

fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn expression(word: &str) -> Result<Expression, String> {
    let text = word.replace('_', " ").to_lowercase();
    if let Some(part) = text
        .strip_prefix('=')
        .filter(|p| !p.is_empty() && !p.contains('*'))
    {
        return Ok(Expression::Sequence(vec![part.to_string()]));
    }
    if !text.contains('*') {
        return Ok(Expression::Literal(text));
    }
    let parts: Vec<String> = text.split('*').map(str::to_string).collect();
    if parts.iter().any(String::is_empty) {
        return Err(format!(
            "`{word}`: `*` must stand between two parts, as in 借*车"
        ));
    }
    Ok(Expression::Sequence(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(s: &str) -> Expression {
        Expression::Literal(s.into())
    }

    #[test]
    fn includes_are_resolved_across_files_and_lines() {
        let concepts = parse(&[
            (
                "a.txt",
                "# roles\njudge: 法官 审判员\njudge: Judge @clerk\n",
            ),
            ("b.txt", "clerk: 书记员 red_packet 借*车\n"),
        ])
        .unwrap();
        let judge = concepts.iter().find(|c| c.name == "judge").unwrap();
        assert!(judge.expressions.contains(&literal("judge")));
        assert!(judge.expressions.contains(&literal("书记员")));
        assert!(judge.expressions.contains(&literal("red packet")));
        assert!(
            judge
                .expressions
                .contains(&Expression::Sequence(vec!["借".into(), "车".into()]))
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse(&[("a.txt", "judge: 法官\n\nno colon here\n")]).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("a.txt", 3));
        let e = parse(&[("a.txt", "judge: 法官 @nobody\n")]).unwrap_err();
        assert_eq!((e.line, e.message.contains("@nobody")), (1, true));
        let e = parse(&[("a.txt", "a: x @b\nb: y @a\n")]).unwrap_err();
        assert!(e.message.contains("include each other"), "{e}");
        let e = parse(&[("a.txt", "Judge: 法官\n")]).unwrap_err();
        assert!(e.message.contains("not a concept name"), "{e}");
        let e = parse(&[("a.txt", "x: 借**车\n")]).unwrap_err();
        assert!(e.message.contains("between two parts"), "{e}");
    }
}
