//! The answering engine: a question in, the clauses it is about out. Pure: no I/O after loading.

mod matcher;
pub mod normalize;
pub mod reference;

pub use matcher::{MAX_MATCHES, SECONDARY_RATIO, Scored, THRESHOLD};

use aho_corasick::{AhoCorasick, MatchKind};
use jieba_rs::Jieba;
use serde::Serialize;

use crate::lexicon::{Lexicon, LexiconError, Source};
use crate::regulation::{ClauseId, Metadata, Regulation};
use matcher::Matcher;

/// The metadata file every lexicon folder has; it names the regulation text.
pub const METADATA: &str = "regulation.toml";

/// Score given to a clause the question names by number, above any lexicon score.
pub const REFERENCE_SCORE: f32 = 100.0;

/// What the question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Clauses were found (by number or by meaning).
    Clauses,
    /// Nothing in the regulation answers it.
    NotCovered,
    /// 帮助, help, or a bare mention.
    Help,
    /// 负面清单: the list of forbidden acts.
    NegativeList,
}

/// How a match was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The question names the clause by number.
    Reference,
    /// The lexicon's rules point at it.
    Lexicon,
}

/// One clause of an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub id: ClauseId,
    pub score: f32,
    pub citation: String,
    pub via: Via,
    /// Lines of rules.txt that matched (empty for references).
    pub rules: Vec<usize>,
}

/// The engine's answer to one message, before it is rendered as a reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub intent: Intent,
    pub matches: Vec<Match>,
}

/// The regulation, its lexicon and the segmenter, built once and shared.
pub struct Engine {
    pub metadata: Metadata,
    pub regulation: Regulation,
    pub lexicon: Lexicon,
    matcher: Matcher,
    jieba: Jieba,
    variants: Variants,
}

/// Rewrites dialect, slang and typos in one pass (leftmost-longest).
struct Variants {
    automaton: Option<AhoCorasick>,
    replacements: Vec<String>,
}

impl Variants {
    fn new(pairs: &[(String, String)]) -> Self {
        let automaton = (!pairs.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(pairs.iter().map(|(from, _)| from))
                .expect("variant patterns fit an automaton")
        });
        Variants {
            automaton,
            replacements: pairs.iter().map(|(_, to)| to.clone()).collect(),
        }
    }

    fn apply(&self, text: String) -> String {
        match &self.automaton {
            Some(a) if a.is_match(&text) => a.replace_all(&text, &self.replacements),
            _ => text,
        }
    }
}

const HELP_WORDS: &[&str] = &[
    "帮助",
    "help",
    "?",
    "菜单",
    "使用说明",
    "用法",
    "怎么用",
    "说明",
    "功能",
];
const LIST_WORDS: &[&str] = &[
    "负面清单",
    "负面清单列表",
    "列出负面清单",
    "负面清单有哪些",
    "负面清单全文",
    "全部负面清单",
    "28项",
    "list",
];

impl Engine {
    /// The regulation and lexicon compiled into this binary.
    pub fn builtin() -> Result<Self, LexiconError> {
        Engine::load(&Source::builtin())
    }

    /// Loads and checks a regulation and lexicon (e.g. an edited copy given by `--lexicon DIR`).
    pub fn load(source: &Source) -> Result<Self, LexiconError> {
        let metadata_text = source.get(METADATA)?;
        let metadata = Metadata::parse(metadata_text).map_err(|e| {
            LexiconError::new(
                METADATA,
                Metadata::error_line(&e, metadata_text),
                e.to_string(),
            )
        })?;
        let text = source.get(&metadata.text)?;
        let regulation = Regulation::parse(text)
            .map_err(|e| LexiconError::new(&metadata.text, e.line, e.message))?;
        let lexicon = Lexicon::load(source, &regulation)?;
        let mut jieba = Jieba::new();
        for word in &lexicon.user_words {
            jieba.add_word(&word.word, word.freq, word.tag.as_deref());
        }
        let variants = Variants::new(&lexicon.variants);
        let matcher = Matcher::new(&lexicon, |text| variants.apply(text.to_string()));
        Ok(Engine {
            metadata,
            regulation,
            lexicon,
            matcher,
            jieba,
            variants,
        })
    }

    /// The message as the matcher sees it: normalised, dialect and typos rewritten.
    pub fn normalize(&self, message: &str) -> String {
        self.variants.apply(normalize::normalize(message))
    }

    /// Answers one message.
    pub fn answer(&self, message: &str) -> Answer {
        let text = self.normalize(message);
        let bare = text
            .trim_matches(|c: char| c.is_ascii_punctuation() || c == ' ' || c == '。' || c == '？');
        if normalize::is_empty(&text) || HELP_WORDS.contains(&bare) {
            return Answer {
                intent: Intent::Help,
                matches: vec![],
            };
        }
        if LIST_WORDS.contains(&bare) {
            return Answer {
                intent: Intent::NegativeList,
                matches: vec![],
            };
        }
        let mut matches: Vec<Match> = reference::find(&text, &self.regulation)
            .into_iter()
            .map(|id| self.matched(id, REFERENCE_SCORE, Via::Reference, vec![]))
            .collect();
        for scored in self.matcher.score(&text, &self.jieba) {
            if matches.len() < MAX_MATCHES && !matches.iter().any(|m| m.id == scored.id) {
                matches.push(self.matched(scored.id, scored.score, Via::Lexicon, scored.rules));
            }
        }
        let intent = if matches.is_empty() {
            Intent::NotCovered
        } else {
            Intent::Clauses
        };
        Answer { intent, matches }
    }

    /// The words jieba cuts a message into, after normalisation (for `--explain`).
    pub fn segment(&self, message: &str) -> Vec<String> {
        let text = self.normalize(message);
        self.jieba
            .cut(&text, true)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect()
    }

    /// The concepts a message contains, by name (for `--explain`).
    pub fn concepts(&self, message: &str) -> Vec<String> {
        let text = self.normalize(message);
        let found = self.matcher.concepts_in(&text, &self.jieba);
        let mut names: Vec<String> = found
            .iter()
            .enumerate()
            .filter(|(_, spans)| !spans.is_empty())
            .map(|(c, spans)| {
                let words: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
                format!("{}({})", self.lexicon.concepts[c].name, words.join(","))
            })
            .collect();
        names.sort();
        names
    }

    fn matched(&self, id: ClauseId, score: f32, via: Via, rules: Vec<usize>) -> Match {
        Match {
            id,
            score: (score * 100.0).round() / 100.0,
            citation: id.citation(),
            via,
            rules,
        }
    }
}
