//! Clause identifiers: "10" for Article 10, "12.18" for Article 12 item 18.

use std::fmt;
use std::str::FromStr;

use crate::numerals::to_chinese;

/// An article number with an optional item number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClauseId {
    pub article: u16,
    pub item: Option<u16>,
}

/// A clause id that is not of the form `N` or `N.M` with positive numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a clause id (expected e.g. 10 or 12.18)")]
pub struct ClauseIdError(pub String);

impl ClauseId {
    pub fn article(article: u16) -> Self {
        ClauseId {
            article,
            item: None,
        }
    }

    pub fn item(article: u16, item: u16) -> Self {
        ClauseId {
            article,
            item: Some(item),
        }
    }

    /// The citation used in replies: 第十条, 第十二条第（十八）项.
    pub fn citation(self) -> String {
        let article = format!("第{}条", to_chinese(self.article.into()));
        match self.item {
            Some(item) => format!("{article}第（{}）项", to_chinese(item.into())),
            None => article,
        }
    }

    /// The article this clause belongs to (itself for an article).
    pub fn parent(self) -> ClauseId {
        ClauseId::article(self.article)
    }
}

impl fmt::Display for ClauseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(item) => write!(f, "{}.{}", self.article, item),
            None => write!(f, "{}", self.article),
        }
    }
}

impl FromStr for ClauseId {
    type Err = ClauseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| part.parse::<u16>().ok().filter(|&n| n > 0);
        let parsed = match s.split_once('.') {
            Some((a, i)) => number(a).zip(number(i)).map(|(a, i)| ClauseId::item(a, i)),
            None => number(s).map(ClauseId::article),
        };
        parsed.ok_or_else(|| ClauseIdError(s.to_string()))
    }
}

impl serde::Serialize for ClauseId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_cites() {
        for (text, citation) in [
            ("10", "第十条"),
            ("12.18", "第十二条第（十八）项"),
            ("12.1", "第十二条第（一）项"),
        ] {
            let id: ClauseId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
            assert_eq!(id.citation(), citation);
        }
        for bad in ["", "0", "12.", ".3", "12.0", "a", "12.3.4", "-1"] {
            assert!(bad.parse::<ClauseId>().is_err(), "{bad}");
        }
    }
}
