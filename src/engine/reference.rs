//! Direct references by number, in every form lawyers type: 第十二条第（十八）项, 12条18项, 12.18, 负面清单第七项.

use std::sync::LazyLock;

use regex::Regex;

use crate::numerals::parse_number;
use crate::regulation::{ClauseId, Regulation};

const NUM: &str = r"[〇零一二两三四五六七八九十]+|\d{1,2}";

/// 第十二条第十八项, 12条(19), 第十条, 十二条二十项, 第4条第2款.
static ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(第)?\s*({NUM})\s*条(?:\s*(?:之|的)?\s*(第)?\s*(\()?\s*({NUM})\s*(\))?\s*(项|款)?)?"
    ))
    .unwrap()
});
/// What follows 三条 when it names Article 3 rather than counting three articles.
const ASKS_FOR_TEXT: [&str; 10] = [
    "原文",
    "是什么",
    "是啥",
    "讲的",
    "讲了",
    "说的",
    "内容",
    "怎么说",
    "怎么规定",
    "规定了",
];
/// 12.18, 12-18, 12．18.
static DOTTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2})\s*[.\-．－]\s*(\d{1,2})").unwrap());
/// 负面清单第七项, 负面清单(十), 清单7项, 负面清单7.
static LIST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"清单\s*(?:里|中|上)?\s*(?:的)?\s*(?:第\s*({NUM})\s*[项条]?|\(\s*({NUM})\s*\)|({NUM})\s*[项条]|(\d{{1,2}}))"
    ))
    .unwrap()
});
/// 第十二条最后一项, 12条最后那一项, 负面清单倒数第二项: an item counted from the end of an
/// article (the negative list when no article is named).
static LAST_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:第?\s*({NUM})\s*条|清单)\s*(?:里|中|上)?\s*(?:的)?\s*(?:最后(?:那)?(?:一个|一|个)?(?:兜底的?)?[项条]|倒数第\s*({NUM})\s*[项条个])"
    ))
    .unwrap()
});
/// 12(二十七), 12（27）: the list article and an item in brackets.
static BRACKETED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(\d{{1,2}})\s*\(\s*({NUM})\s*\)")).unwrap());
/// Article 12(14), article 12 item 14, art. 10.
static ENGLISH_ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:article|art\.?)\s*(\d{1,2})(?:\s*(?:\(\s*(\d{1,2})\s*\)|,?\s*(?:item|point|paragraph|para\.?)\s*(\d{1,2})))?").unwrap()
});
/// item 18 (of the negative list).
static ENGLISH_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bitem\s*(\d{1,2})\b").unwrap());
/// 第二十七项, 第(十八)项.
static ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"第\s*\(?\s*({NUM})\s*\)?\s*项")).unwrap());

/// The clauses a message names by number, in the order it names them; numbers that name no
/// clause of `regulation` are ignored.
pub fn find(text: &str, regulation: &Regulation) -> Vec<ClauseId> {
    let mut found = Found {
        regulation,
        at: Vec::new(),
        taken: Vec::new(),
    };
    let list = regulation.list_article().map(|c| c.id.article);
    if let Some(list) = list {
        found.list_items(&LIST, text, list);
    }
    found.last_items(text, list);
    found.articles(text);
    found.english_articles(text);
    if let Some(list) = list {
        found.dotted(text, list);
        found.bracketed(text, list);
        found.list_items(&ITEM, text, list);
        found.list_items(&ENGLISH_ITEM, text, list);
    }
    found.into_ids()
}

/// References found so far, and the spans of text they took (a later pattern may not reuse them).
struct Found<'r> {
    regulation: &'r Regulation,
    at: Vec<(usize, ClauseId)>,
    taken: Vec<(usize, usize)>,
}

impl Found<'_> {
    fn add(&mut self, start: usize, end: usize, id: ClauseId) {
        let free = self.taken.iter().all(|&(a, b)| end <= a || start >= b);
        if free && self.regulation.contains(id) {
            self.at.push((start, id));
            self.taken.push((start, end));
        }
    }

    /// An item of the list article, named by the first group that matched.
    fn list_items(&mut self, re: &Regex, text: &str, list: u16) {
        for c in re.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let number = (1..c.len())
                .find_map(|g| c.get(g))
                .and_then(|m| parse_number(m.as_str()));
            if let Some(n) = number.and_then(|n| u16::try_from(n).ok()) {
                self.add(whole.start(), whole.end(), ClauseId::item(list, n));
            }
        }
    }

    /// 第十二条第十八项, 12条(19), 第十条, 十二条二十项, 第4条第2款.
    fn articles(&mut self, text: &str) {
        for c in ARTICLE.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let Some(article) = parse_number(&c[2]).and_then(|n| u16::try_from(n).ok()) else {
                continue;
            };
            let digits = c[2].chars().all(|ch| ch.is_ascii_digit());
            let item = c
                .get(5)
                .and_then(|m| parse_number(m.as_str()))
                .and_then(|n| u16::try_from(n).ok());
            let item_marked = c.get(3).is_some() || c.get(4).is_some() || c.get(7).is_some();
            // A bare Chinese numeral before 条 ("两条", "一条") is a count, not a reference, unless
            // it is past any count one would say (十五条) or what follows asks for the text.
            // 那一条, 这两条, 每条: a clause pointed at or counted, not numbered.
            let pointed = text[..whole.start()]
                .chars()
                .next_back()
                .is_some_and(|ch| "那这哪每某几".contains(ch));
            let rest = &text[whole.end()..];
            let asks_for_text = ASKS_FOR_TEXT
                .iter()
                .any(|cue| rest.trim_start().starts_with(cue));
            if c.get(1).is_none()
                && !digits
                && !(item.is_some() && item_marked)
                && article < 10
                && (!asks_for_text || pointed)
            {
                continue;
            }
            match item.map(|i| ClauseId::item(article, i)) {
                Some(id) if item_marked && self.regulation.contains(id) => {
                    self.add(whole.start(), whole.end(), id);
                }
                // An item the article does not have: the article, and the rest of the text is taken.
                Some(_) if item_marked => {
                    self.add(whole.start(), whole.end(), ClauseId::article(article))
                }
                _ => {
                    let end = c.get(2).map_or(whole.end(), |m| m.end()) + "条".len();
                    self.add(whole.start(), end, ClauseId::article(article));
                }
            }
        }
    }

    /// Article 12(14), article 12 item 14, art. 10.
    fn english_articles(&mut self, text: &str) {
        for c in ENGLISH_ARTICLE.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let Ok(article) = c[1].parse::<u16>() else {
                continue;
            };
            let item = c
                .get(2)
                .or(c.get(3))
                .and_then(|m| m.as_str().parse::<u16>().ok());
            let id = match item.map(|i| ClauseId::item(article, i)) {
                Some(id) if self.regulation.contains(id) => id,
                _ => ClauseId::article(article),
            };
            self.add(whole.start(), whole.end(), id);
        }
    }

    /// 12.18, 12-18 — only for the list article, and not inside a larger number (2.5万, 3.14).
    fn dotted(&mut self, text: &str, list: u16) {
        for c in DOTTED.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let before = text[..whole.start()].chars().next_back();
            let after = text[whole.end()..].chars().next();
            if before.is_some_and(|b| b.is_ascii_digit() || b == '.')
                || after.is_some_and(|a| a.is_ascii_digit() || a == '.' || a == '万')
            {
                continue;
            }
            if let (Ok(a), Ok(i)) = (c[1].parse::<u16>(), c[2].parse::<u16>())
                && a == list
            {
                self.add(whole.start(), whole.end(), ClauseId::item(a, i));
            }
        }
    }

    /// 第十二条最后一项, 负面清单倒数第二项: an item counted from the end of the article named,
    /// or of the negative list.
    fn last_items(&mut self, text: &str, list: Option<u16>) {
        for c in LAST_ITEM.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let article = match c.get(1) {
                Some(number) => parse_number(number.as_str()).and_then(|n| u16::try_from(n).ok()),
                None => list,
            };
            let from_end = c
                .get(2)
                .map_or(Some(1), |n| parse_number(n.as_str()))
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n >= 1);
            let item = article
                .and_then(|a| self.regulation.get(ClauseId::article(a)))
                .zip(from_end)
                .and_then(|(c, n)| c.items.len().checked_sub(n).map(|i| c.items[i]));
            if let Some(id) = item {
                self.add(whole.start(), whole.end(), id);
            }
        }
    }

    /// 12(二十七): a list article number followed by an item in brackets.
    fn bracketed(&mut self, text: &str, list: u16) {
        for c in BRACKETED.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            let item = parse_number(&c[2]).and_then(|n| u16::try_from(n).ok());
            if let (Ok(a), Some(i)) = (c[1].parse::<u16>(), item)
                && a == list
            {
                self.add(whole.start(), whole.end(), ClauseId::item(a, i));
            }
        }
    }

    fn into_ids(mut self) -> Vec<ClauseId> {
        self.at.sort_by_key(|&(at, _)| at);
        let mut ids: Vec<ClauseId> = Vec::new();
        for (_, id) in self.at {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize::normalize;

    fn regulation() -> Regulation {
        Regulation::parse(include_str!("../../lexicon/bazhou-2024-draft.txt")).unwrap()
    }

    fn ids(text: &str) -> Vec<String> {
        find(&normalize(text), &regulation())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn finds_references_in_every_form() {
        for (text, expected) in [
            ("第十二条第（十八）项", vec!["12.18"]),
            ("第十二条第十八项是什么", vec!["12.18"]),
            ("12条18项", vec!["12.18"]),
            ("12条（19）", vec!["12.19"]),
            ("12.18", vec!["12.18"]),
            ("12.24 内容", vec!["12.24"]),
            ("１２－２０", vec!["12.20"]),
            ("第18项", vec!["12.18"]),
            ("负面清单第七项", vec!["12.7"]),
            ("负面清单第7项", vec!["12.7"]),
            ("负面清单（十）是啥来着", vec!["12.10"]),
            ("第十条原文发我一下", vec!["10"]),
            ("第二十七项讲的啥", vec!["12.27"]),
            ("第12条第3项", vec!["12.3"]),
            ("第 12 条第 20 项", vec!["12.20"]),
            ("十二条二十项", vec!["12.20"]),
            ("第九条怎么规定的", vec!["9"]),
            ("第四条第二款", vec!["4"]),
            ("8条", vec!["8"]),
            ("第十条和第十二条第十五项", vec!["10", "12.15"]),
            ("12（二十七）", vec!["12.27"]),
            ("第十二条之（八）", vec!["12.8"]),
            ("第12条最后那一项兜底的是啥", vec!["12.28"]),
            ("负面清单倒数第二项是哪条", vec!["12.27"]),
            ("十五条原文", vec!["15"]),
            ("三条讲的啥", vec!["3"]),
            ("十二条最后那个兜底项", vec!["12.28"]),
            ("第十二条倒数第三项", vec!["12.26"]),
            ("清单最后一项", vec!["12.28"]),
            ("12(27)是什么", vec!["12.27"]),
            ("负面清单第一条讲啥", vec!["12.1"]),
            ("What does Article 12(14) say?", vec!["12.14"]),
            ("article 12 item 3", vec!["12.3"]),
            ("Show me article 10", vec!["10"]),
            ("what is item 18 of the negative list", vec!["12.18"]),
        ] {
            assert_eq!(ids(text), expected, "{text}");
        }
    }

    #[test]
    fn ignores_numbers_that_are_not_references() {
        for text in [
            "负面清单一共有几项",
            "负面清单倒数第三十项",
            "这两条有什么区别",
            "申请回避那一条说的特殊关系",
            "借了2.5万",
            "发个888的红包",
            "第三十条",
            "第十二条第三十项",
            "民事案件上诉期是15天还是30天来着",
            "下午3-4点开庭",
        ] {
            let found = ids(text);
            assert!(
                found.is_empty() || text == "第十二条第三十项",
                "{text}: {found:?}"
            );
        }
        assert_eq!(ids("第十二条第三十项"), vec!["12"]);
    }
}
