//! What the text does not say in a form a program can use: issuer, status, dates, interpreter.

use jiff::civil::Date;
use serde::Deserialize;

/// The metadata file beside the regulation text (lexicon/regulation.toml).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The full title, e.g. 巴州区规范律师与司法人员接触交往行为暂行规定（征求意见稿）.
    pub title: String,
    /// The body that issued it: 巴中市巴州区司法局.
    pub issuer: String,
    /// Its status, e.g. 征求意见稿.
    pub status: String,
    /// The first day it applies.
    #[serde(deserialize_with = "toml_date")]
    pub effective: Date,
    /// The last day it applies, if it has a term (Article 17: two years).
    #[serde(default, deserialize_with = "optional_toml_date")]
    pub expires: Option<Date>,
    /// The body that interprets it.
    pub interpreter: String,
    /// The file holding the text, relative to the metadata file.
    pub text: String,
}

/// Metadata that cannot be read, or whose dates contradict each other.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The TOML is malformed or a key is missing, unknown or of the wrong type.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// The term ends before it begins.
    #[error("expires ({expires}) is before effective ({effective})")]
    EndsBeforeStart { effective: Date, expires: Date },
}

/// A date written either as a TOML date (2024-06-01) or as a string ("2024-06-01").
fn toml_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
    use serde::de::Error;
    let text = match toml::Value::deserialize(deserializer)? {
        toml::Value::String(s) => s,
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        other => {
            return Err(D::Error::custom(format!(
                "expected a date like 2024-06-01, found {other}"
            )));
        }
    };
    text.parse()
        .map_err(|e| D::Error::custom(format!("`{text}` is not a date: {e}")))
}

fn optional_toml_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Date>, D::Error> {
    toml_date(deserializer).map(Some)
}

/// Whether the regulation applies on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    NotYetEffective { from: Date },
    InForce { until: Option<Date> },
    Expired { on: Date },
}

impl Metadata {
    pub fn parse(text: &str) -> Result<Self, MetadataError> {
        let metadata: Metadata = toml::from_str(text)?;
        if let Some(expires) = metadata.expires.filter(|&e| e < metadata.effective) {
            return Err(MetadataError::EndsBeforeStart {
                effective: metadata.effective,
                expires,
            });
        }
        Ok(metadata)
    }

    /// The 1-based line of `text` (the metadata file) an error is about, if it can tell.
    pub fn error_line(error: &MetadataError, text: &str) -> usize {
        let offset = match error {
            MetadataError::Toml(e) => e.span().map(|s| s.start),
            MetadataError::EndsBeforeStart { .. } => text
                .lines()
                .scan(0, |at, l| {
                    let start = *at;
                    *at += l.len() + 1;
                    Some((start, l))
                })
                .find(|(_, l)| l.trim_start().starts_with("expires"))
                .map(|(start, _)| start),
        };
        offset.map_or(0, |o| text[..o.min(text.len())].matches('\n').count() + 1)
    }

    pub fn validity(&self, today: Date) -> Validity {
        match self.expires {
            _ if today < self.effective => Validity::NotYetEffective {
                from: self.effective,
            },
            Some(on) if today > on => Validity::Expired { on },
            until => Validity::InForce { until },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const META: &str = r#"
title = "某规定"
issuer = "某局"
status = "征求意见稿"
effective = 2024-06-01
expires = 2026-05-31
interpreter = "某局"
text = "a.txt"
"#;

    #[test]
    fn validity_follows_the_dates() {
        let m = Metadata::parse(META).unwrap();
        assert_eq!(
            m.validity(date(2024, 5, 31)),
            Validity::NotYetEffective {
                from: date(2024, 6, 1)
            }
        );
        assert_eq!(
            m.validity(date(2024, 6, 1)),
            Validity::InForce {
                until: Some(date(2026, 5, 31))
            }
        );
        assert_eq!(
            m.validity(date(2026, 5, 31)),
            Validity::InForce {
                until: Some(date(2026, 5, 31))
            }
        );
        assert_eq!(
            m.validity(date(2026, 6, 1)),
            Validity::Expired {
                on: date(2026, 5, 31)
            }
        );
    }

    #[test]
    fn refuses_unknown_keys_and_backward_dates() {
        let unknown = format!("{META}colour = \"red\"\n");
        assert!(
            Metadata::parse(&unknown)
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
        let backward = META.replace("2026-05-31", "2023-01-01");
        assert!(matches!(
            Metadata::parse(&backward),
            Err(MetadataError::EndsBeforeStart { .. })
        ));
    }
}
