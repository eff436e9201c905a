//! Tests the `lawbot` binary end to end: ask (text, JSON, stdin), clause, eval and --lexicon, run from an empty folder.

mod temp;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use temp::TempDir;

const ITEM_18: &str =
    "利用承办案件司法人员或者其近亲属举办婚丧喜庆事宜等时机，向其馈赠礼品、金钱、有价证券等；";
const LEXICON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicon");

/// The binary, run from an empty folder so that nothing can be read from the working directory.
fn lawbot(dir: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lawbot"));
    command.current_dir(dir.path());
    command
}

fn run(args: &[&str]) -> Output {
    let dir = TempDir::new("cli-run");
    lawbot(&dir).args(args).output().expect("run lawbot")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Runs and checks the exit status; returns stdout.
fn ok(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "lawbot {args:?} failed: {}",
        stderr(&output)
    );
    stdout(&output)
}

/// Runs and checks that it fails with a message on stderr; returns stderr.
fn fails(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        !output.status.success(),
        "lawbot {args:?} should fail; stdout: {}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert!(!err.trim().is_empty(), "lawbot {args:?} failed silently");
    err
}

fn json_line(line: &str) -> Value {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert!(value.is_object(), "{line}");
    for key in ["question", "matches", "reply"] {
        assert!(value.get(key).is_some(), "no `{key}` in {line}");
    }
    assert!(value["question"].is_string(), "{line}");
    assert!(value["reply"].is_string(), "{line}");
    for m in value["matches"].as_array().expect("matches is an array") {
        assert!(m["id"].is_string(), "{m}");
        assert!(m["score"].is_number(), "{m}");
    }
    value
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("read entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ask
// ---------------------------------------------------------------------------------------------

#[test]
fn ask_by_number_quotes_the_clause_verbatim() {
    let out = ok(&["ask", "第十二条第十八项是什么"]);
    assert!(out.contains("第十二条第（十八）项"), "{out}");
    assert!(out.contains(ITEM_18), "{out}");
    assert!(out.contains("仅供参考"), "{out}");
}

#[test]
fn ask_json_prints_one_line_with_the_match() {
    let out = ok(&["ask", "--json", "第十二条第十八项是什么"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let value = json_line(lines[0]);
    assert_eq!(value["question"], "第十二条第十八项是什么");
    assert_eq!(value["matches"][0]["id"], "12.18", "{out}");
    assert!(value["reply"].as_str().unwrap().contains(ITEM_18), "{out}");
}

#[test]
fn ask_json_on_an_uncovered_question_has_no_matches() {
    let out = ok(&["ask", "--json", "今天中午吃啥"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let value = json_line(lines[0]);
    assert_eq!(value["question"], "今天中午吃啥");
    assert_eq!(value["matches"].as_array().unwrap().len(), 0, "{out}");
    assert!(
        value["reply"].as_str().unwrap().contains("没有涉及"),
        "{out}"
    );
}

#[test]
fn ask_reads_one_question_per_line_of_stdin() {
    let dir = TempDir::new("cli-stdin");
    let questions = ["第十二条第十八项是什么", "12.20", "第十条"];
    let input = format!("{}\n{}\n\n{}\n", questions[0], questions[1], questions[2]);
    let mut child = lawbot(&dir)
        .args(["ask", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lawbot");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for lawbot");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, question) in lines.iter().zip(questions) {
        assert_eq!(json_line(line)["question"], question, "{line}");
    }
    assert_eq!(json_line(lines[1])["matches"][0]["id"], "12.20");
    assert_eq!(json_line(lines[2])["matches"][0]["id"], "10");
}

#[test]
fn the_footer_follows_the_date() {
    let ask = |today: &str| ok(&["ask", "--today", today, "第十条"]);
    let in_force = ask("2026-01-01");
    assert!(in_force.contains("有效期至2026年5月31日"), "{in_force}");
    assert!(!in_force.contains("届满"), "{in_force}");
    let last_day = ask("2026-05-31");
    assert!(last_day.contains("有效期至2026年5月31日"), "{last_day}");
    let expired = ask("2026-11-28");
    assert!(expired.contains("已于2026年5月31日届满"), "{expired}");
    let early = ask("2024-05-01");
    assert!(early.contains("尚未施行"), "{early}");
    assert!(early.contains("2024年6月1日"), "{early}");
    let err = fails(&["ask", "--today", "2026-13-01", "第十条"]);
    assert!(err.contains("--today"), "{err}");
}

#[test]
fn ask_help_shows_the_help() {
    let out = ok(&["ask", "帮助"]);
    assert!(out.contains("我是律规助手"), "{out}");
    assert!(out.contains("负面清单"), "{out}");
    assert!(out.contains("第十二条第十八项是什么"), "{out}");
}

#[test]
fn ask_negative_list_lists_the_28_items() {
    let out = ok(&["ask", "负面清单"]);
    assert!(out.contains("第十二条"), "{out}");
    let numerals = [
        "一",
        "二",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
        "十五",
        "十六",
        "十七",
        "十八",
        "十九",
        "二十",
        "二十一",
        "二十二",
        "二十三",
        "二十四",
        "二十五",
        "二十六",
        "二十七",
        "二十八",
    ];
    let mut at = 0;
    for numeral in numerals {
        let marker = format!("（{numeral}）");
        let found = out[at..]
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} missing or out of order in {out}"));
        at += found + marker.len();
    }
    assert!(!out.contains("（二十九）"), "{out}");
    assert!(out.contains("共28项"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// clause
// ---------------------------------------------------------------------------------------------

#[test]
fn clause_prints_the_text() {
    let out = ok(&["clause", "12.18"]);
    assert_eq!(out, format!("第十二条第（十八）项\n{ITEM_18}\n"));
    let twelve = ok(&["clause", "12"]);
    assert!(
        twelve.starts_with("第十二条\n律师不得与司法人员有下列接触交往行为：\n（一）"),
        "{twelve}"
    );
    assert!(twelve.contains(&format!("（十八）{ITEM_18}")), "{twelve}");
    assert_eq!(twelve.lines().count(), 30, "{twelve}");
}

#[test]
fn clause_refuses_an_unknown_id() {
    let err = fails(&["clause", "12.29"]);
    assert!(err.contains("12.29"), "{err}");
    assert!(err.contains("not in the regulation"), "{err}");
    let err = fails(&["clause", "12.x"]);
    assert!(err.contains("12.x"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// eval
// ---------------------------------------------------------------------------------------------

const CASES: &str = "id\tquestion\tgold\tmust\tcategory\n\
                     T-1\t第十二条第十八项是什么\t12.18\t\treference\n\
                     \n\
                     T-2\t第十条讲的啥\t10\t10\treference\n\
                     T-3\t12.20\t12.20\t\treference\n";

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write file");
    path.to_str().unwrap().to_string()
}

/// The figures of the summary line, checked against its format.
fn summary(line: &str) -> Vec<(String, f64)> {
    let fields: Vec<&str> = line.split(' ').collect();
    let names = ["top1", "top3", "must3", "oos_reject", "overall", "n"];
    assert_eq!(fields.len(), names.len(), "{line}");
    fields
        .iter()
        .zip(names)
        .map(|(field, name)| {
            let (key, value) = field
                .split_once('=')
                .unwrap_or_else(|| panic!("{field} in {line}"));
            assert_eq!(key, name, "{line}");
            let number = if name == "n" {
                value
            } else {
                value
                    .strip_suffix('%')
                    .unwrap_or_else(|| panic!("{field} is not a percentage in {line}"))
            };
            let number: f64 = number
                .parse()
                .unwrap_or_else(|_| panic!("{field} in {line}"));
            (key.to_string(), number)
        })
        .collect()
}

#[test]
fn eval_ends_with_the_summary_line() {
    let dir = TempDir::new("cli-eval");
    let file = write(&dir, "cases.tsv", CASES);
    let output = lawbot(&dir)
        .args(["eval", &file])
        .output()
        .expect("run lawbot");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let last = out.lines().last().expect("output");
    let figures = summary(last);
    assert_eq!(figures[5], ("n".to_string(), 3.0), "{out}");
    for (name, value) in &figures[..5] {
        assert!((0.0..=100.0).contains(value), "{name}={value} in {out}");
    }
    // Questions by number are answered by number.
    assert_eq!(figures[0].1, 100.0, "{out}");
    assert!(out.contains("reference"), "{out}");
}

#[test]
fn eval_require_fails_below_the_threshold() {
    let dir = TempDir::new("cli-require");
    let file = write(&dir, "cases.tsv", CASES);
    let output = lawbot(&dir)
        .args(["eval", &file, "--require", "top1=101"])
        .output()
        .expect("run lawbot");
    assert!(!output.status.success(), "{}", stdout(&output));
    assert!(stderr(&output).contains("top1"), "{}", stderr(&output));
    let output = lawbot(&dir)
        .args(["eval", &file, "--require", "top1=0,n_o=1"])
        .output()
        .expect("run lawbot");
    assert!(!output.status.success(), "unknown metric accepted");
    assert!(stderr(&output).contains("n_o"), "{}", stderr(&output));
    let output = lawbot(&dir)
        .args(["eval", &file, "--require", "top1=0"])
        .output()
        .expect("run lawbot");
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn eval_names_the_malformed_line() {
    let dir = TempDir::new("cli-malformed");
    let file = write(
        &dir,
        "bad.tsv",
        "id\tquestion\tgold\tmust\tcategory\nT-1\t第十条\t10\t\treference\nT-2\t第十条\t10\n",
    );
    let output = lawbot(&dir)
        .args(["eval", &file])
        .output()
        .expect("run lawbot");
    assert!(!output.status.success(), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("bad.tsv"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    let err = fails(&["eval", "no-such-file.tsv"]);
    assert!(err.contains("no-such-file.tsv"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// --lexicon and check
// ---------------------------------------------------------------------------------------------

#[test]
fn check_works_from_an_empty_folder() {
    let out = ok(&["check"]);
    assert!(out.starts_with("ok: 45 clauses"), "{out}");
}

#[test]
fn a_copy_of_the_lexicon_folder_works() {
    let dir = TempDir::new("cli-lexicon");
    let copy = dir.path().join("lexicon-copy");
    copy_dir(Path::new(LEXICON), &copy);
    let copy = copy.to_str().unwrap();
    let output = lawbot(&dir)
        .args(["--lexicon", copy, "ask", "第十二条第十八项是什么"])
        .output()
        .expect("run lawbot");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains(ITEM_18), "{out}");
    let output = lawbot(&dir)
        .args(["check", "--lexicon", copy])
        .output()
        .expect("run lawbot");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("ok: 45 clauses"));
}

#[test]
fn a_broken_line_in_the_copy_is_named() {
    let dir = TempDir::new("cli-broken");
    let copy = dir.path().join("lexicon-copy");
    copy_dir(Path::new(LEXICON), &copy);
    let rules = copy.join("rules.txt");
    let mut text = std::fs::read_to_string(&rules).expect("read rules.txt");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let line = text.lines().count() + 1;
    text.push_str("12.29  5  no_such_concept\n");
    std::fs::write(&rules, text).expect("write rules.txt");
    let output = lawbot(&dir)
        .args(["--lexicon", copy.to_str().unwrap(), "ask", "第十条"])
        .output()
        .expect("run lawbot");
    assert!(!output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains(&format!("rules.txt:{line}")), "{err}");
    assert!(err.contains("12.29"), "{err}");
}

#[test]
fn a_missing_lexicon_folder_is_named() {
    let err = fails(&["--lexicon", "no-such-lexicon", "check"]);
    assert!(err.contains("no-such-lexicon"), "{err}");
}
