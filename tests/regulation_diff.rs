//! Tests the clause-by-clause comparison on the published text and edited copies of it.

use lawbot::numerals::to_chinese;
use lawbot::regulation::{Change, ClauseId, Regulation, diff, render, summary};

/// The published text, as compiled into the binary.
const TEXT: &str = include_str!("../lexicon/bazhou-2024-draft.txt");

/// The item inserted after （五） in the edited copies.
const INSERTED: &str = "请求司法人员违反规定延长或者缩短办案期限；";

fn parse(text: &str) -> Regulation {
    Regulation::parse(text).expect("the edited text parses")
}

fn id(s: &str) -> ClauseId {
    s.parse().expect("a valid clause id")
}

/// The published text with the items of Article 12 edited and numbered again from （一）.
fn with_items(edit: impl FnOnce(&mut Vec<String>)) -> String {
    let (mut head, mut items, mut tail) = (Vec::new(), Vec::new(), Vec::new());
    for line in TEXT.lines() {
        match line.strip_prefix('（').and_then(|l| l.split_once('）')) {
            Some((_, body)) => items.push(body.to_string()),
            None if items.is_empty() => head.push(line.to_string()),
            None => tail.push(line.to_string()),
        }
    }
    assert_eq!(items.len(), 28, "the published text lists 28 items");
    edit(&mut items);
    let items = items
        .iter()
        .enumerate()
        .map(|(i, body)| format!("（{}）{body}", to_chinese(i as u32 + 1)));
    let lines: Vec<String> = head.into_iter().chain(items).chain(tail).collect();
    lines.join("\n") + "\n"
}

/// Replaces `from` by `to` in item `n` (1-based) of Article 12, checking it is there.
fn reword(items: &mut [String], n: usize, from: &str, to: &str) {
    let item = &mut items[n - 1];
    assert!(
        item.contains(from),
        "item {n} does not contain {from}: {item}"
    );
    *item = item.replace(from, to);
}

fn diff_with(new: &str) -> Vec<Change> {
    diff(&parse(TEXT), &parse(new))
}

/// One short line per change: "=1", "+12.6", "-12.20", "~12.18", "12.6>12.7", "12.18>12.19~".
fn outline(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match c {
            Change::Unchanged { id } => format!("={id}"),
            Change::Added { id, .. } => format!("+{id}"),
            Change::Removed { id, .. } => format!("-{id}"),
            Change::Reworded { id, .. } => format!("~{id}"),
            Change::Renumbered { from, to, .. } => format!("{from}>{to}"),
            Change::RenumberedAndReworded { from, to, .. } => format!("{from}>{to}~"),
        })
        .collect()
}

/// The outline without the unchanged clauses.
fn changed(changes: &[Change]) -> Vec<String> {
    outline(changes)
        .into_iter()
        .filter(|c| !c.starts_with('='))
        .collect()
}

/// "12.a>12.(a+shift)" for each item a in `items`.
fn shifted(items: std::ops::RangeInclusive<u16>, shift: i16) -> Vec<String> {
    items
        .map(|i| format!("12.{i}>12.{}", i as i16 + shift))
        .collect()
}

/// The change lines of the outline that come right after `anchor`.
fn after(changes: &[Change], anchor: &str, n: usize) -> Vec<String> {
    let outline = outline(changes);
    let at = outline
        .iter()
        .position(|c| c == anchor)
        .unwrap_or_else(|| panic!("{anchor} is not in {outline:?}"));
    outline[at + 1..at + 1 + n].to_vec()
}

#[test]
fn the_published_text_against_itself_is_all_unchanged() {
    let changes = diff_with(TEXT);
    assert_eq!(changes.len(), 45);
    assert!(
        changes
            .iter()
            .all(|c| matches!(c, Change::Unchanged { .. })),
        "{changes:?}"
    );
    let order: Vec<ClauseId> = changes.iter().filter_map(Change::new_id).collect();
    let published: Vec<ClauseId> = parse(TEXT).clauses().iter().map(|c| c.id).collect();
    assert_eq!(order, published);
    assert_eq!(render(&changes), "两个版本内容相同。\n");
}

#[test]
fn a_reworded_item_is_marked_phrase_by_phrase() {
    let new = with_items(|items| {
        reword(
            items,
            18,
            "馈赠礼品、金钱、有价证券等",
            "赠送礼金、礼品、有价证券、消费卡等",
        )
    });
    let changes = diff_with(&new);
    assert_eq!(changed(&changes), ["~12.18"]);
    let reworded = changes
        .iter()
        .find(|c| c.new_id() == Some(id("12.18")))
        .unwrap();
    let Change::Reworded {
        old_text,
        new_text,
        marked,
        ..
    } = reworded
    else {
        panic!("{reworded:?}")
    };
    assert!(old_text.contains("馈赠礼品"), "{old_text}");
    assert!(new_text.contains("赠送礼金"), "{new_text}");
    assert_eq!(
        marked,
        "利用承办案件司法人员或者其近亲属举办婚丧喜庆事宜等时机，向其[-馈赠礼品、金钱-]{+赠送礼金、礼品+}、有价证券{+、消费卡+}等；"
    );
    assert_eq!(
        render(&changes),
        format!("修改 第十二条第（十八）项\n  {marked}\n共计：修改1处。\n")
    );
}

#[test]
fn an_item_inserted_after_the_fifth_renumbers_the_rest() {
    let new = with_items(|items| items.insert(5, INSERTED.to_string()));
    let changes = diff_with(&new);
    let mut expected = vec!["+12.6".to_string()];
    expected.extend(shifted(6..=28, 1));
    assert_eq!(changed(&changes), expected);
    assert_eq!(after(&changes, "=12.5", 2), ["+12.6", "12.6>12.7"]);
    assert_eq!(changes.len(), 46);

    let report = render(&changes);
    assert_eq!(
        report,
        format!(
            "新增 第十二条第（六）项\n  {INSERTED}\n\
             编号变更 第十二条第（六）项至第（二十八）项 → 第十二条第（七）项至第（二十九）项\n\
             共计：新增1处、编号变更23处。\n"
        )
    );
    assert_eq!(
        summary(&changes),
        "本次修订：新增1处（第十二条第（六）项）、编号变更23处。"
    );
}

#[test]
fn a_removed_item_stays_where_it_was_and_the_rest_move_up() {
    let removed = with_items(|items| {
        items.remove(19);
    });
    let changes = diff_with(&removed);
    let mut expected = vec!["-12.20".to_string()];
    expected.extend(shifted(21..=28, -1));
    assert_eq!(changed(&changes), expected);
    assert_eq!(after(&changes, "=12.19", 2), ["-12.20", "12.21>12.20"]);
    let report = render(&changes);
    assert!(
        report.starts_with("删除 第十二条第（二十）项\n  为谋求不正当利益，"),
        "{report}"
    );
    assert!(
        report.contains(
            "编号变更 第十二条第（二十一）项至第（二十八）项 → 第十二条第（二十）项至第（二十七）项\n"
        ),
        "{report}"
    );
    assert!(
        report.ends_with("共计：删除1处、编号变更8处。\n"),
        "{report}"
    );
}

#[test]
fn an_appended_article_is_added_last() {
    let article = "第十八条 本规定由巴中市巴州区司法局负责组织实施。";
    let changes = diff_with(&format!("{TEXT}{article}\n"));
    assert_eq!(changed(&changes), ["+18"]);
    assert_eq!(
        changes.last(),
        Some(&Change::Added {
            id: id("18"),
            text: "本规定由巴中市巴州区司法局负责组织实施。".to_string()
        })
    );
    assert_eq!(summary(&changes), "本次修订：新增1处（第十八条）。");
}

#[test]
fn an_insertion_a_rewording_and_a_removal_together_are_each_found() {
    let new = with_items(|items| {
        reword(items, 18, "馈赠礼品", "赠送礼品");
        items.remove(22); // （二十三）
        items.insert(5, INSERTED.to_string());
    });
    let changes = diff_with(&new);
    let mut expected = vec!["+12.6".to_string()];
    expected.extend(shifted(6..=17, 1));
    expected.push("12.18>12.19~".into());
    expected.extend(shifted(19..=22, 1));
    expected.push("-12.23".into());
    assert_eq!(changed(&changes), expected);
    // The items after the removed one are back at their old numbers.
    assert_eq!(
        after(&changes, "12.22>12.23", 3),
        ["-12.23", "=12.24", "=12.25"]
    );

    let report = render(&changes);
    for line in [
        format!("新增 第十二条第（六）项\n  {INSERTED}\n"),
        "编号变更 第十二条第（六）项至第（十七）项 → 第十二条第（七）项至第（十八）项\n".into(),
        "编号变更并修改 第十二条第（十八）项 → 第十二条第（十九）项\n  利用承办案件司法人员或者其近亲属举办婚丧喜庆事宜等时机，向其[-馈赠-]{+赠送+}礼品、金钱、有价证券等；\n".into(),
        "编号变更 第十二条第（十九）项至第（二十二）项 → 第十二条第（二十）项至第（二十三）项\n".into(),
        "删除 第十二条第（二十三）项\n  案件办理期间，向司法人员及其近亲属出借款项、".into(),
        "共计：新增1处、删除1处、修改1处、编号变更17处。\n".into(),
    ] {
        assert!(report.contains(&line), "missing {line:?} in\n{report}");
    }
    assert_eq!(
        summary(&changes),
        "本次修订：新增1处（第十二条第（六）项）、删除1处（第十二条第（二十三）项）、\
         修改1处（第十二条第（十九）项）、编号变更17处。"
    );
    // Every clause of the new text is accounted for once, and so is every clause of the old.
    let new_ids: Vec<ClauseId> = changes.iter().filter_map(Change::new_id).collect();
    let old_ids: Vec<ClauseId> = changes.iter().filter_map(Change::old_id).collect();
    assert_eq!(new_ids.len(), parse(&new).clauses().len());
    assert_eq!(old_ids.len(), parse(TEXT).clauses().len());
}

#[test]
fn a_replaced_item_is_removed_then_added_under_its_number() {
    let new = with_items(|items| items[16] = "代替当事人向司法人员递交材料；".into());
    let changes = diff_with(&new);
    assert_eq!(changed(&changes), ["-12.17", "+12.17"]);
}
