//! Direct references by number, in every form lawyers type: 第十二条第（十八）项, 12条18项, 12.18, 负面清单第七项.

use std::sync::LazyLock;

use regex::Regex;

use crate::numerals::parse_number;
use crate::regulation::{ClauseId, Regulation};

const NUM: &str = r"[〇零一二两三四五六七八九十]+|\d{1,2}";

/// 第十二条第十八项, 12条(19), 第十条, 十二条二十项, 第4条第2款.
static ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(第)?\s*({NUM})\s*条(?:\s*(第)?\s*(\()?\s*({NUM})\s*(\))?\s*(项|款)?)?"
    ))
    .unwrap()
});
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
    let list_article = regulation.list_article().map(|c| c.id.article);
    let mut found: Vec<(usize, ClauseId)> = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let free =
        |taken: &[(usize, usize)], s: usize, e: usize| taken.iter().all(|&(a, b)| e <= a || s >= b);

    if let Some(list) = list_article {
        for (re, groups) in [(&*LIST, 1..=4)] {
            for c in re.captures_iter(text) {
                let whole = c.get(0).unwrap();
                let Some(n) = groups
                    .clone()
                    .find_map(|g| c.get(g))
                    .and_then(|m| parse_number(m.as_str()))
                else {
                    continue;
                };
                let Ok(n) = u16::try_from(n) else { continue };
                let id = ClauseId::item(list, n);
                if regulation.contains(id) && free(&taken, whole.start(), whole.end()) {
                    found.push((whole.start(), id));
                    taken.push((whole.start(), whole.end()));
                }
            }
        }
    }
    for c in ARTICLE.captures_iter(text) {
        let whole = c.get(0).unwrap();
        let Some(article) = parse_number(&c[2]).and_then(|n| u16::try_from(n).ok()) else {
            continue;
        };
        let digits = c[2].chars().all(|ch| ch.is_ascii_digit());
        let item = c
            .get(5)
            .and_then(|m| parse_number(m.as_str()))
            .and_then(|n| u16::try_from(n).ok());
        let item_marked = c.get(3).is_some() || c.get(4).is_some() || c.get(7).is_some();
        // A bare Chinese numeral before 条 ("两条", "一条") is a count, not a reference.
        if c.get(1).is_none() && !digits && !(item.is_some() && item_marked) {
            continue;
        }
        let mut id = ClauseId::article(article);
        let mut end = whole.end();
        match item {
            Some(i) if item_marked && regulation.contains(ClauseId::item(article, i)) => {
                id = ClauseId::item(article, i);
            }
            Some(_) if item_marked => {}
            _ => end = c.get(2).map_or(end, |m| m.end()) + "条".len(),
        }
        if regulation.contains(id) && free(&taken, whole.start(), end) {
            found.push((whole.start(), id));
            taken.push((whole.start(), end));
        }
    }
    for c in ENGLISH_ARTICLE.captures_iter(text) {
        let whole = c.get(0).unwrap();
        let Ok(article) = c[1].parse::<u16>() else {
            continue;
        };
        let item = c
            .get(2)
            .or(c.get(3))
            .and_then(|m| m.as_str().parse::<u16>().ok());
        let id = match item.map(|i| ClauseId::item(article, i)) {
            Some(id) if regulation.contains(id) => id,
            _ => ClauseId::article(article),
        };
        if regulation.contains(id) && free(&taken, whole.start(), whole.end()) {
            found.push((whole.start(), id));
            taken.push((whole.start(), whole.end()));
        }
    }
    for c in DOTTED.captures_iter(text) {
        let whole = c.get(0).unwrap();
        let before = text[..whole.start()].chars().next_back();
        let after = text[whole.end()..].chars().next();
        if before.is_some_and(|b| b.is_ascii_digit() || b == '.')
            || after.is_some_and(|a| a.is_ascii_digit() || a == '.' || a == '万')
        {
            continue;
        }
        let (Ok(a), Ok(i)) = (c[1].parse::<u16>(), c[2].parse::<u16>()) else {
            continue;
        };
        let id = ClauseId::item(a, i);
        if Some(a) == list_article
            && regulation.contains(id)
            && free(&taken, whole.start(), whole.end())
        {
            found.push((whole.start(), id));
            taken.push((whole.start(), whole.end()));
        }
    }
    if let Some(list) = list_article {
        for (re, groups) in [(&*ITEM, 1..=1), (&*ENGLISH_ITEM, 1..=1)] {
            for c in re.captures_iter(text) {
                let whole = c.get(0).unwrap();
                let Some(n) = groups
                    .clone()
                    .find_map(|g| c.get(g))
                    .and_then(|m| parse_number(m.as_str()))
                else {
                    continue;
                };
                let Ok(n) = u16::try_from(n) else { continue };
                let id = ClauseId::item(list, n);
                if regulation.contains(id) && free(&taken, whole.start(), whole.end()) {
                    found.push((whole.start(), id));
                    taken.push((whole.start(), whole.end()));
                }
            }
        }
    }
    found.sort_by_key(|&(at, _)| at);
    let mut ids: Vec<ClauseId> = Vec::new();
    for (_, id) in found {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
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
            "这两条有什么区别",
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
