//! Derives chapters, articles, items and paragraphs from the regulation's published text.

use std::sync::LazyLock;

use regex::Regex;

use super::{Clause, ClauseId};
use crate::numerals::parse_number;

/// A line of the text that does not fit the regulation's structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number in the text.
    pub line: usize,
    pub message: String,
}

static CHAPTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^第([〇零一二三四五六七八九十]+)章\s*(.*)$").unwrap());
static ARTICLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^第([〇零一二三四五六七八九十]+)条\s*(.*)$").unwrap());
static ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[（(]([〇零一二三四五六七八九十]+)[）)]\s*(.*)$").unwrap());

/// Parses the text into its title and its clauses (articles, each followed by its items).
///
/// Refused, naming the line: a chapter, article or item number that is missing, repeated or
/// out of order; an item in an article that does not introduce a list (its text must end in
/// "："); text before the first article that is not the title; an empty article.
pub fn parse(text: &str) -> Result<(String, Vec<Clause>), ParseError> {
    let mut parser = Parser::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if !line.is_empty() {
            parser.line(index + 1, line)?;
        }
    }
    parser.finish(text.lines().count())
}

#[derive(Default)]
struct Parser {
    title: String,
    chapters: u32,
    chapter: String,
    clauses: Vec<Clause>,
    /// Index in `clauses` of the current article.
    article: Option<usize>,
    /// The last item number of the current article.
    items: u32,
}

impl Parser {
    fn line(&mut self, line: usize, text: &str) -> Result<(), ParseError> {
        let fail = |message: String| Err(ParseError { line, message });
        if let Some(c) = CHAPTER.captures(text) {
            let n = self.number(line, &c[1], self.chapters, "章")?;
            self.chapters = n;
            self.chapter = c[2].split_whitespace().collect();
            return Ok(());
        }
        if let Some(c) = ARTICLE.captures(text) {
            let previous = self
                .article
                .map_or(0, |i| self.clauses[i].id.article.into());
            let n = self.number(line, &c[1], previous, "条")?;
            let body = c[2].trim();
            if body.is_empty() {
                return fail(format!("第{}条 has no text", &c[1]));
            }
            let id = ClauseId::article(n as u16);
            self.push(id, body.to_string());
            self.article = Some(self.clauses.len() - 1);
            self.items = 0;
            return Ok(());
        }
        if let Some(c) = ITEM.captures(text) {
            let Some(article) = self.article else {
                return fail(format!("item （{}） comes before any article", &c[1]));
            };
            let parent = &self.clauses[article];
            if !(parent.text.ends_with('：') || parent.text.ends_with(':')) {
                return fail(format!(
                    "item （{}） is outside a list: {} does not introduce items (its text must end in \"：\")",
                    &c[1], parent.citation
                ));
            }
            let n = self.number(line, &c[1], self.items, "项")?;
            let body = c[2].trim();
            if body.is_empty() {
                return fail(format!("item （{}） has no text", &c[1]));
            }
            let id = ClauseId::item(parent.id.article, n as u16);
            self.clauses[article].items.push(id);
            self.push(id, body.to_string());
            self.items = n;
            return Ok(());
        }
        match self.article {
            Some(article) if self.items == 0 => {
                let clause = &mut self.clauses[article];
                clause.text.push('\n');
                clause.text.push_str(text);
                Ok(())
            }
            Some(article) => fail(format!(
                "text after the last item of {} is neither an item nor an article: \"{}\"",
                self.clauses[article].citation,
                preview(text)
            )),
            None if self.chapters == 0 => {
                self.title.push_str(text);
                Ok(())
            }
            None => fail(format!("text outside any article: \"{}\"", preview(text))),
        }
    }

    /// Checks that a chapter, article or item number is the one after `previous`.
    fn number(
        &self,
        line: usize,
        numeral: &str,
        previous: u32,
        unit: &str,
    ) -> Result<u32, ParseError> {
        let fail = |message: String| Err(ParseError { line, message });
        let Some(n) = parse_number(numeral) else {
            return fail(format!("\"{numeral}\" is not a number"));
        };
        let expected = previous + 1;
        if n == expected {
            Ok(n)
        } else if n <= previous {
            fail(format!(
                "第{numeral}{unit} repeats or goes back: expected number {expected}"
            ))
        } else {
            fail(format!(
                "第{numeral}{unit} skips a number: number {expected} is missing"
            ))
        }
    }

    fn push(&mut self, id: ClauseId, text: String) {
        self.clauses.push(Clause {
            id,
            citation: id.citation(),
            chapter: self.chapter.clone(),
            text,
            items: Vec::new(),
        });
    }

    fn finish(self, lines: usize) -> Result<(String, Vec<Clause>), ParseError> {
        if self.clauses.is_empty() {
            return Err(ParseError {
                line: lines.max(1),
                message: "the text has no article (第一条 …)".into(),
            });
        }
        if let Some(open) = self
            .clauses
            .iter()
            .find(|c| c.items.is_empty() && c.id.item.is_none() && c.text.ends_with('：'))
        {
            return Err(ParseError {
                line: lines.max(1),
                message: format!("{} introduces a list but has no items", open.citation),
            });
        }
        Ok((self.title, self.clauses))
    }
}

fn preview(text: &str) -> String {
    text.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> ParseError {
        parse(text).expect_err("the text should be refused")
    }

    const SMALL: &str = "某规定\n第一章 总  则\n第一条 甲。\n第二条 乙：\n（一）丙；\n（二）丁。\n第二章 附  则\n第三条 戊。\n己。\n";

    #[test]
    fn parses_a_small_text() {
        let (title, clauses) = parse(SMALL).unwrap();
        assert_eq!(title, "某规定");
        let ids: Vec<String> = clauses.iter().map(|c| c.id.to_string()).collect();
        assert_eq!(ids, ["1", "2", "2.1", "2.2", "3"]);
        assert_eq!(clauses[0].chapter, "总则");
        assert_eq!(
            clauses[1].items,
            [ClauseId::item(2, 1), ClauseId::item(2, 2)]
        );
        assert_eq!(clauses[4].text, "戊。\n己。");
        assert_eq!(clauses[4].chapter, "附则");
    }

    #[test]
    fn refuses_a_missing_article_naming_the_line() {
        let e = error_of("第一条 甲。\n第三条 乙。\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("number 2 is missing"), "{e}");
    }

    #[test]
    fn refuses_a_repeated_article() {
        let e = error_of("第一条 甲。\n\n第一条 乙。\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("repeats"), "{e}");
    }

    #[test]
    fn refuses_a_repeated_or_missing_item() {
        let e = error_of("第一条 甲：\n（一）乙；\n（一）丙。\n");
        assert_eq!((e.line, e.message.contains("repeats")), (3, true), "{e}");
        let e = error_of("第一条 甲：\n（一）乙；\n（三）丙。\n");
        assert_eq!((e.line, e.message.contains("missing")), (3, true), "{e}");
    }

    #[test]
    fn refuses_an_item_outside_a_list() {
        let e = error_of("第一条 甲：\n（一）乙。\n第二条 丙。\n（一）丁。\n");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("outside a list"), "{e}");
        let e = error_of("（一）乙。\n");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn refuses_text_after_items_and_empty_texts() {
        assert_eq!(error_of("第一条 甲：\n（一）乙。\n丙。\n").line, 3);
        assert_eq!(error_of("").line, 1);
        assert_eq!(
            error_of("第一条 甲：\n").message,
            "第一条 introduces a list but has no items"
        );
        assert_eq!(error_of("第一章 总则\n前言\n").line, 2);
        assert_eq!(error_of("第一条\n").line, 1);
    }
}
