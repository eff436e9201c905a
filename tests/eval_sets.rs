//! The question sets under tests/eval/ (written independently of the lexicon) stay above the floors.

use lawbot::{Engine, eval};

#[test]
fn every_question_set_reaches_the_floors() {
    let engine = Engine::builtin().expect("the built-in lexicon loads");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no question sets in {dir}");
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let cases = eval::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let report = eval::run(&engine, &cases);
        let t = report.total;
        let line = t.summary_line();
        for (name, floor) in [
            ("top1", 90.0),
            ("top3", 95.0),
            ("must3", 85.0),
            ("oos_reject", 85.0),
        ] {
            let value = t.metric(name).unwrap();
            assert!(
                value >= floor,
                "{}: {name}={value:.1}% is under {floor}% ({line})",
                path.display()
            );
        }
    }
}
