//! Tests the regulation parser on the published text, and the loading and checking of the lexicon through the library API.

use std::path::Path;

use lawbot::engine::{Engine, Intent, METADATA};
use lawbot::lexicon::{LexiconError, Source};
use lawbot::regulation::{ClauseId, ParseError, Regulation};

/// The published text, as compiled into the binary.
const TEXT: &str = include_str!("../lexicon/bazhou-2024-draft.txt");
/// The file the built-in metadata names for the text.
const TEXT_FILE: &str = "bazhou-2024-draft.txt";

fn regulation() -> Regulation {
    Regulation::parse(TEXT).expect("the published text parses")
}

fn id(s: &str) -> ClauseId {
    s.parse().expect("a valid clause id")
}

fn text_of(regulation: &Regulation, clause: &str) -> String {
    regulation
        .get(id(clause))
        .unwrap_or_else(|| panic!("clause {clause} is missing"))
        .text
        .clone()
}

// ---------------------------------------------------------------------------------------------
// The published text
// ---------------------------------------------------------------------------------------------

#[test]
fn the_text_parses_into_the_45_clauses_in_order() {
    let regulation = regulation();
    let ids: Vec<String> = regulation
        .clauses()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    let mut expected: Vec<String> = (1..=12).map(|a| a.to_string()).collect();
    expected.extend((1..=28).map(|i| format!("12.{i}")));
    expected.extend((13..=17).map(|a| a.to_string()));
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), 45);
    for clause in regulation.clauses() {
        assert!(regulation.contains(clause.id));
        assert_eq!(regulation.get(clause.id), Some(clause));
        assert!(!clause.text.trim().is_empty(), "{} has no text", clause.id);
        assert_eq!(
            clause.text,
            clause.text.trim(),
            "{} is not trimmed",
            clause.id
        );
    }
    for missing in ["18", "12.29", "11.1", "13.1", "0.1"] {
        assert!(
            missing
                .parse::<ClauseId>()
                .map_or(true, |m| !regulation.contains(m)),
            "{missing} should not be a clause"
        );
    }
}

#[test]
fn article_12_lists_28_items_and_is_the_list_article() {
    let regulation = regulation();
    let twelve = regulation.get(id("12")).unwrap();
    let expected: Vec<ClauseId> = (1..=28).map(|i| ClauseId::item(12, i)).collect();
    assert_eq!(twelve.items, expected);
    assert_eq!(twelve.text, "律师不得与司法人员有下列接触交往行为：");
    assert_eq!(regulation.list_article().map(|c| c.id), Some(id("12")));
    for clause in regulation.clauses() {
        if clause.id != id("12") {
            assert!(clause.items.is_empty(), "{} lists items", clause.id);
        }
    }
}

#[test]
fn clause_texts_are_verbatim() {
    let regulation = regulation();
    assert_eq!(
        text_of(&regulation, "12.18"),
        "利用承办案件司法人员或者其近亲属举办婚丧喜庆事宜等时机，向其馈赠礼品、金钱、有价证券等；"
    );
    assert_eq!(text_of(&regulation, "12.17"), "与司法人员共同受贿；");
    assert_eq!(
        text_of(&regulation, "12.28"),
        "与司法人员存在其他可能影响司法公正的不正当接触交往行为。"
    );
    assert_eq!(
        text_of(&regulation, "10"),
        "律师在执业过程中，需要与案件承办人接触和交换意见的，应当在工作时间和在司法机关内指定场所或者按照司法机关指定方式进行。"
    );
    assert_eq!(
        text_of(&regulation, "17"),
        "本规定有效期两年，由巴中市巴州区司法局解释，自2024年6月1日起施行。"
    );
    assert_eq!(
        text_of(&regulation, "4"),
        [
            "本规定所称“司法人员”，是指在法院、检察院、公安机关、国家安全机关、司法行政机关依法履行审判、执行、检察、侦查、监管职责的人员。",
            "本规定所称“特殊关系”，是指律师与司法人员之间存在的父母、配偶、子女及其配偶、同胞兄弟姐妹和与案件有利害关系或可能影响案件公正处理的其他关系。",
            "律师与仲裁人员、执行人员、书记员、司法警察、司法技术辅助人员及其他人员之间交往中，具有违反本规定情形的，参照本规定执行。",
        ]
        .join("\n")
    );
    let fourteen = text_of(&regulation, "14");
    assert_eq!(fourteen.lines().count(), 2, "{fourteen}");
    assert!(fourteen.starts_with("律师和律师事务所违反本规定的，区司法局"));
    assert!(fourteen.ends_with("应当给予党纪处分。"));
    // One-paragraph articles carry no line break.
    for article in ["1", "2", "3", "5", "10", "12", "13", "15", "16", "17"] {
        assert!(!text_of(&regulation, article).contains('\n'), "{article}");
    }
}

#[test]
fn the_title_and_chapter_titles_are_read() {
    let regulation = regulation();
    assert_eq!(
        regulation.title,
        "巴州区规范律师与司法人员接触交往行为暂行规定（征求意见稿）"
    );
    let chapter = |clause: &str| regulation.get(id(clause)).unwrap().chapter.clone();
    for (clauses, title) in [
        (&["1", "2", "3", "4"][..], "总则"),
        (&["5", "8", "11"][..], "行为规范"),
        (
            &["12", "12.1", "12.18", "12.28"][..],
            "律师与司法人员接触交往行为负面清单",
        ),
        (&["13", "14", "15"][..], "适用"),
        (&["16", "17"][..], "附则"),
    ] {
        for clause in clauses {
            assert_eq!(chapter(clause), title, "chapter of {clause}");
        }
    }
}

#[test]
fn citations_follow_the_regulation() {
    let regulation = regulation();
    for (clause, citation) in [
        ("1", "第一条"),
        ("10", "第十条"),
        ("12", "第十二条"),
        ("17", "第十七条"),
        ("12.1", "第十二条第（一）项"),
        ("12.10", "第十二条第（十）项"),
        ("12.18", "第十二条第（十八）项"),
        ("12.20", "第十二条第（二十）项"),
        ("12.28", "第十二条第（二十八）项"),
    ] {
        assert_eq!(regulation.get(id(clause)).unwrap().citation, citation);
        assert_eq!(id(clause).citation(), citation);
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed variants of the published text
// ---------------------------------------------------------------------------------------------

fn lines() -> Vec<String> {
    TEXT.lines().map(str::to_string).collect()
}

/// The 0-based index of the only line that starts with `prefix`.
fn index_of(lines: &[String], prefix: &str) -> usize {
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim().starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "lines starting with {prefix}: {found:?}");
    found[0]
}

fn refused(lines: &[String]) -> ParseError {
    Regulation::parse(&lines.join("\n")).expect_err("the edited text should be refused")
}

#[test]
fn a_removed_article_is_refused_at_the_next_article() {
    let mut text = lines();
    let five = index_of(&text, "第五条");
    text.remove(five);
    // 第六条 now sits where 第五条 was: 1-based line five + 1.
    let e = refused(&text);
    assert_eq!(e.line, five + 1, "{e}");
    assert!(e.message.contains("number 5 is missing"), "{e}");
    assert!(
        e.to_string().starts_with(&format!("line {}:", five + 1)),
        "{e}"
    );
}

#[test]
fn a_repeated_article_is_refused_at_the_copy() {
    let mut text = lines();
    let ten = index_of(&text, "第十条");
    text.insert(ten + 1, text[ten].clone());
    let e = refused(&text);
    assert_eq!(e.line, ten + 2, "{e}");
    assert!(e.message.contains("repeats"), "{e}");
}

#[test]
fn a_removed_item_is_refused_at_the_next_item() {
    let mut text = lines();
    let seven = index_of(&text, "（七）");
    text.remove(seven);
    let e = refused(&text);
    assert_eq!(e.line, seven + 1, "{e}");
    assert!(e.message.contains("number 7 is missing"), "{e}");
}

#[test]
fn a_repeated_item_is_refused_at_the_copy() {
    let mut text = lines();
    let eighteen = index_of(&text, "（十八）");
    text.insert(eighteen + 1, text[eighteen].clone());
    let e = refused(&text);
    assert_eq!(e.line, eighteen + 2, "{e}");
    assert!(e.message.contains("repeats"), "{e}");
}

#[test]
fn an_item_after_article_13_is_outside_a_list() {
    let mut text = lines();
    let last = index_of(&text, "（二十八）");
    let item = text.remove(last);
    let thirteen = index_of(&text, "第十三条");
    text.insert(thirteen + 1, item);
    let e = refused(&text);
    assert_eq!(e.line, thirteen + 2, "{e}");
    assert!(e.message.contains("outside a list"), "{e}");
    assert!(e.message.contains("第十三条"), "{e}");
}

#[test]
fn an_edited_text_loaded_by_the_engine_names_the_text_file_and_line() {
    let mut text = lines();
    let five = index_of(&text, "第五条");
    text.remove(five);
    let source = Source::builtin().with_file(TEXT_FILE, &text.join("\n"));
    let e = load_error(&source);
    assert_eq!((e.file.as_str(), e.line), (TEXT_FILE, five + 1), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{TEXT_FILE}:{}:", five + 1)),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Broken lexicon lines
// ---------------------------------------------------------------------------------------------

fn builtin_file(path: &str) -> String {
    Source::builtin()
        .get(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string()
}

/// The built-in file with `line` appended, and the 1-based number of that line.
fn appended(path: &str, line: &str) -> (String, usize) {
    let mut text = builtin_file(path);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let number = text.lines().count() + 1;
    text.push_str(line);
    text.push('\n');
    (text, number)
}

fn load_error(source: &Source) -> LexiconError {
    match Engine::load(source) {
        Ok(_) => panic!("the edited lexicon should be refused"),
        Err(e) => e,
    }
}

/// Appends `line` to the built-in `path`, and checks the engine refuses it at `path:line`.
fn refused_at(path: &str, line: &str, message: &str) -> LexiconError {
    let (text, number) = appended(path, line);
    let e = load_error(&Source::builtin().with_file(path, &text));
    let display = e.to_string();
    assert!(
        display.contains(&format!("{path}:{number}")),
        "expected `{path}:{number}` in: {display}"
    );
    assert_eq!((e.file.as_str(), e.line), (path, number), "{display}");
    assert!(
        e.message.contains(message),
        "expected `{message}` in: {display}"
    );
    e
}

#[test]
fn the_builtin_lexicon_loads() {
    let engine = Engine::builtin().expect("the built-in lexicon loads");
    assert_eq!(engine.regulation.clauses().len(), 45);
    assert_eq!(engine.metadata.text, TEXT_FILE);
    for clause in engine.regulation.clauses() {
        assert!(
            engine.lexicon.summaries.contains_key(&clause.id),
            "{} has no summary",
            clause.id
        );
    }
    // An unedited copy loads too, and the same.
    let same = Engine::load(&Source::builtin().with_file("rules.txt", &builtin_file("rules.txt")))
        .expect("an unedited copy loads");
    assert_eq!(same.lexicon.rules, engine.lexicon.rules);
}

/// A concept name the built-in lexicon defines, taken from its files rather than hard-coded.
fn some_concept() -> String {
    Engine::builtin().unwrap().lexicon.concepts[0].name.clone()
}

#[test]
fn a_rule_pointing_at_a_clause_not_in_the_regulation_is_refused() {
    refused_at(
        "rules.txt",
        &format!("12.29  5  {}", some_concept()),
        "12.29",
    );
}

#[test]
fn a_rule_naming_an_unknown_concept_is_refused() {
    refused_at(
        "rules.txt",
        "12.18  5  no_such_concept_anywhere",
        "no_such_concept_anywhere",
    );
}

#[test]
fn a_concept_line_without_a_name_is_refused() {
    let file = Source::builtin()
        .files_under("concepts/")
        .map(|(p, _)| p.to_string())
        .next()
        .expect("a concept file");
    refused_at(&file, "礼物 红包 月饼", "name: expressions");
}

#[test]
fn a_summary_of_a_clause_not_in_the_regulation_is_refused() {
    refused_at("summaries.tsv", "12.29\t不存在的一项", "12.29");
}

#[test]
fn a_user_word_frequency_that_is_not_a_number_is_refused() {
    refused_at("userdict.txt", "承办法官 many n", "many");
}

#[test]
fn a_related_clause_not_in_the_regulation_is_refused() {
    refused_at("related.tsv", "12.18\t12.20, 18", "18");
}

/// Every lexicon error names `file:line`; the metadata file is no exception (the TOML parser knows
/// the line of the unknown key, so the error should carry it rather than line 0).
#[test]
fn a_metadata_file_with_an_unknown_key_is_refused_naming_the_line() {
    refused_at(METADATA, "colour = \"red\"", "colour");
}

#[test]
fn a_missing_lexicon_file_is_named() {
    let files: Vec<(String, String)> = Source::builtin()
        .paths()
        .filter(|p| *p != "rules.txt")
        .map(|p| (p.to_string(), builtin_file(p)))
        .collect();
    let e = load_error(&Source::from_files(files));
    assert_eq!(e.file, "rules.txt", "{e}");
    assert!(e.to_string().starts_with("rules.txt:"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// A new version of the text, loaded without a code change
// ---------------------------------------------------------------------------------------------

const NEW_FILE: &str = "bazhou-2026.txt";
const ARTICLE_18: &str = "本规定自发布之日起施行，原规定同时废止。";
const NEW_ITEM_17: &str = "与司法人员共同受贿或者为其代收贿赂；";

fn new_version() -> Source {
    let text = format!(
        "{}\n第十八条 {ARTICLE_18}\n",
        TEXT.trim_end().replace("与司法人员共同受贿；", NEW_ITEM_17)
    );
    let metadata = builtin_file(METADATA).replace(TEXT_FILE, NEW_FILE);
    let mut summaries = builtin_file("summaries.tsv");
    if !summaries.ends_with('\n') {
        summaries.push('\n');
    }
    summaries.push_str("18\t新规定施行，原规定废止\n");
    Source::builtin()
        .with_file(NEW_FILE, &text)
        .with_file(METADATA, &metadata)
        .with_file("summaries.tsv", &summaries)
}

#[test]
fn a_new_version_of_the_text_loads_from_files_alone() {
    let engine = Engine::load(&new_version()).expect("the new version loads");
    let regulation = &engine.regulation;
    assert_eq!(engine.metadata.text, NEW_FILE);
    assert_eq!(regulation.clauses().len(), 46);
    assert_eq!(regulation.clauses().last().unwrap().id, id("18"));
    assert_eq!(text_of(regulation, "18"), ARTICLE_18);
    assert_eq!(regulation.get(id("18")).unwrap().chapter, "附则");
    assert_eq!(text_of(regulation, "12.17"), NEW_ITEM_17);
    assert_eq!(regulation.get(id("12")).unwrap().items.len(), 28);
    assert_eq!(
        engine.lexicon.summaries.get(&id("18")).map(String::as_str),
        Some("新规定施行，原规定废止")
    );

    // The new article is reachable by number.
    let answer = engine.answer("第十八条是什么");
    assert_eq!(answer.intent, Intent::Clauses);
    assert_eq!(answer.matches.first().map(|m| m.id), Some(id("18")));
    assert_eq!(answer.matches[0].citation, "第十八条");
}

#[test]
fn a_new_article_without_a_summary_is_refused() {
    let source = new_version().with_file("summaries.tsv", &builtin_file("summaries.tsv"));
    let e = load_error(&source);
    assert_eq!(e.file, "summaries.tsv", "{e}");
    assert!(e.message.contains("18"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The compiled-in files
// ---------------------------------------------------------------------------------------------

#[test]
fn the_builtin_source_holds_exactly_the_lexicon_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicon");
    let folder = Source::from_dir(&dir).expect("lexicon/ is readable");
    let builtin = Source::builtin();
    let compiled: Vec<&str> = builtin.paths().collect();
    let on_disk: Vec<&str> = folder.paths().collect();
    assert_eq!(
        compiled, on_disk,
        "the files compiled in (lexicon::source::BUILTIN) differ from the files of lexicon/"
    );
}
