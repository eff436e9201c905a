//! Compares two versions of the regulation clause by clause: added, removed, reworded, renumbered.
//!
//! Clauses are paired in three rounds, articles only with articles and items only with items:
//! identical texts under the same number, then identical texts under any number (a clause that
//! moved because one was inserted or removed before it), then the most similar remaining texts
//! (a reworded clause). What is left unpaired was added or removed. The changed words of a
//! reworded clause are marked at character level, as Chinese has no spaces between words.

use similar::{DiffTag, TextDiff};

use super::{Clause, ClauseId, Regulation};

/// How similar (similar's ratio: twice the common characters over the total) two texts must be
/// to count as one clause reworded rather than one removed and another added.
///
/// The items of Article 12 share much wording ("请求司法人员违反规定…"): in the 2024 text the
/// two closest different items, （一） and （二）, score 0.667. Pairing above that keeps a removed
/// item and an unrelated new one from being shown as one reworded item.
const SIMILAR_ENOUGH: f32 = 0.7;

/// What happened to one clause between the old and the new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Same number, same text.
    Unchanged { id: ClauseId },
    /// A clause of the new version with no counterpart in the old.
    Added { id: ClauseId, text: String },
    /// A clause of the old version with no counterpart in the new; `id` is its old number.
    Removed { id: ClauseId, text: String },
    /// Same number, different text; `marked` is the text with `[-deleted-]` and `{+inserted+}` words.
    Reworded {
        id: ClauseId,
        old_text: String,
        new_text: String,
        marked: String,
    },
    /// Same text under a new number.
    Renumbered {
        from: ClauseId,
        to: ClauseId,
        text: String,
    },
    /// A new number and a different text; `marked` as for [`Change::Reworded`].
    RenumberedAndReworded {
        from: ClauseId,
        to: ClauseId,
        old_text: String,
        new_text: String,
        marked: String,
    },
}

impl Change {
    /// The clause's number in the old version (`None` if it was added).
    pub fn old_id(&self) -> Option<ClauseId> {
        match *self {
            Change::Unchanged { id } | Change::Removed { id, .. } | Change::Reworded { id, .. } => {
                Some(id)
            }
            Change::Renumbered { from, .. } | Change::RenumberedAndReworded { from, .. } => {
                Some(from)
            }
            Change::Added { .. } => None,
        }
    }

    /// The clause's number in the new version (`None` if it was removed).
    pub fn new_id(&self) -> Option<ClauseId> {
        match *self {
            Change::Unchanged { id } | Change::Added { id, .. } | Change::Reworded { id, .. } => {
                Some(id)
            }
            Change::Renumbered { to, .. } | Change::RenumberedAndReworded { to, .. } => Some(to),
            Change::Removed { .. } => None,
        }
    }

    fn is_reworded(&self) -> bool {
        matches!(
            self,
            Change::Reworded { .. } | Change::RenumberedAndReworded { .. }
        )
    }

    fn is_renumbered(&self) -> bool {
        matches!(
            self,
            Change::Renumbered { .. } | Change::RenumberedAndReworded { .. }
        )
    }
}

/// Compares `old` with `new`: one change per clause, in the new version's order, with each
/// removed clause placed after the clause that preceded it in the old version.
pub fn diff(old: &Regulation, new: &Regulation) -> Vec<Change> {
    let (old, new) = (old.clauses(), new.clauses());
    let partner = pair(old, new);
    let mut new_of_old = vec![None; old.len()];
    for (n, o) in partner.iter().enumerate() {
        if let Some(o) = *o {
            new_of_old[o] = Some(n);
        }
    }
    // removed[0] goes before the first new clause, removed[n + 1] after new clause n.
    let mut removed = vec![Vec::new(); new.len() + 1];
    for (o, _) in new_of_old.iter().enumerate().filter(|(_, n)| n.is_none()) {
        let slot = new_of_old[..o]
            .iter()
            .rev()
            .find_map(|&n| n)
            .map_or(0, |n| n + 1);
        removed[slot].push(o);
    }
    let removal = |o: usize| Change::Removed {
        id: old[o].id,
        text: old[o].text.clone(),
    };
    // Between two paired clauses, removed and added ones are merged by number, removed first
    // on a tie: a replaced item reads "删除（六）, 新增（六）", and a removed article comes after
    // the items added to the article before it.
    let mut changes = Vec::with_capacity(new.len() + old.len());
    let mut pending = removed[0].iter().peekable();
    for (n, clause) in new.iter().enumerate() {
        match partner[n] {
            Some(o) => {
                changes.extend(pending.by_ref().map(|&o| removal(o)));
                changes.push(compare(&old[o], clause));
                pending = removed[n + 1].iter().peekable();
            }
            None => {
                while let Some(&&o) = pending.peek() {
                    if old[o].id > clause.id {
                        break;
                    }
                    changes.push(removal(o));
                    pending.next();
                }
                changes.push(Change::Added {
                    id: clause.id,
                    text: clause.text.clone(),
                });
            }
        }
    }
    changes.extend(pending.map(|&o| removal(o)));
    changes
}

/// The change from one clause to the clause it was paired with.
fn compare(old: &Clause, new: &Clause) -> Change {
    let (from, to) = (old.id, new.id);
    let reworded = old.text != new.text;
    let texts = || {
        (
            old.text.clone(),
            new.text.clone(),
            mark(&old.text, &new.text),
        )
    };
    match (from == to, reworded) {
        (true, false) => Change::Unchanged { id: to },
        (false, false) => Change::Renumbered {
            from,
            to,
            text: new.text.clone(),
        },
        (true, true) => {
            let (old_text, new_text, marked) = texts();
            Change::Reworded {
                id: to,
                old_text,
                new_text,
                marked,
            }
        }
        (false, true) => {
            let (old_text, new_text, marked) = texts();
            Change::RenumberedAndReworded {
                from,
                to,
                old_text,
                new_text,
                marked,
            }
        }
    }
}

/// For each new clause, the index of the old clause it continues, if any.
fn pair(old: &[Clause], new: &[Clause]) -> Vec<Option<usize>> {
    let same_kind = |o: &Clause, n: &Clause| o.id.item.is_some() == n.id.item.is_some();
    let mut partner = vec![None; new.len()];
    let mut taken = vec![false; old.len()];

    // 1. The same text under the same number.
    for (n, clause) in new.iter().enumerate() {
        let found = old
            .iter()
            .position(|c| c.id == clause.id && c.text == clause.text);
        if let Some(o) = found {
            partner[n] = Some(o);
            taken[o] = true;
        }
    }
    // 2. The same text under another number, paired in order.
    for (n, clause) in new.iter().enumerate() {
        if partner[n].is_some() {
            continue;
        }
        let found = (0..old.len())
            .find(|&o| !taken[o] && same_kind(&old[o], clause) && old[o].text == clause.text);
        if let Some(o) = found {
            partner[n] = Some(o);
            taken[o] = true;
        }
    }
    // 3. The most similar of the rest, best pairs first; ties go to the same number, then to
    //    the nearer position.
    let mut candidates = Vec::new();
    for n in (0..new.len()).filter(|&n| partner[n].is_none()) {
        for o in (0..old.len()).filter(|&o| !taken[o] && same_kind(&old[o], &new[n])) {
            let ratio = TextDiff::from_chars(old[o].text.as_str(), new[n].text.as_str()).ratio();
            if ratio >= SIMILAR_ENOUGH {
                candidates.push((ratio, old[o].id != new[n].id, o.abs_diff(n), o, n));
            }
        }
    }
    candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then((a.3, a.4).cmp(&(b.3, b.4)))
    });
    for (_, _, _, o, n) in candidates {
        if partner[n].is_none() && !taken[o] {
            partner[n] = Some(o);
            taken[o] = true;
        }
    }
    partner
}

/// A run of the marked text: common to both versions, or changed.
enum Piece {
    Same(String),
    Changed { deleted: String, inserted: String },
}

impl Piece {
    /// The larger side of a change, in characters (0 for common text).
    fn weight(&self) -> usize {
        match self {
            Piece::Same(_) => 0,
            Piece::Changed { deleted, inserted } => {
                deleted.chars().count().max(inserted.chars().count())
            }
        }
    }

    /// Whether the change deletes and inserts something (false for common text).
    fn sides(&self) -> (bool, bool) {
        match self {
            Piece::Same(_) => (false, false),
            Piece::Changed { deleted, inserted } => (!deleted.is_empty(), !inserted.is_empty()),
        }
    }
}

/// `new` with the words deleted from `old` as `[-…-]` and the words inserted as `{+…+}`.
///
/// The character diff is grouped into phrases: a stretch of common text between two changes that
/// together delete and insert something is folded into them when it is no longer than either
/// (as diff-match-patch's semantic cleanup does), so "馈赠礼品" → "赠送财物" reads as one
/// replaced phrase, not as a shared "赠" between scattered single characters. Common text
/// between two insertions (or two deletions) stays: "请求{+违规+}采取{+或者解除+}保全措施".
fn mark(old: &str, new: &str) -> String {
    let diff = TextDiff::from_chars(old, new);
    let mut pieces: Vec<Piece> = Vec::new();
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let deleted = diff.old_slices()[old_range].concat();
        let inserted = diff.new_slices()[new_range].concat();
        match (tag, pieces.last_mut()) {
            (DiffTag::Equal, _) => pieces.push(Piece::Same(inserted)),
            (
                _,
                Some(Piece::Changed {
                    deleted: d,
                    inserted: i,
                }),
            ) => {
                d.push_str(&deleted);
                i.push_str(&inserted);
            }
            _ => pieces.push(Piece::Changed { deleted, inserted }),
        }
    }
    let mut i = 1;
    while i + 1 < pieces.len() {
        let short = match &pieces[i] {
            Piece::Same(text) => {
                let len = text.chars().count();
                let ((d1, i1), (d2, i2)) = (pieces[i - 1].sides(), pieces[i + 1].sides());
                (d1 || d2)
                    && (i1 || i2)
                    && len <= pieces[i - 1].weight()
                    && len <= pieces[i + 1].weight()
            }
            Piece::Changed { .. } => false,
        };
        if !short {
            i += 1;
            continue;
        }
        let after = pieces.remove(i + 1);
        let Piece::Same(common) = pieces.remove(i) else {
            unreachable!("checked above")
        };
        if let (
            Piece::Changed { deleted, inserted },
            Piece::Changed {
                deleted: d2,
                inserted: i2,
            },
        ) = (&mut pieces[i - 1], after)
        {
            deleted.push_str(&common);
            deleted.push_str(&d2);
            inserted.push_str(&common);
            inserted.push_str(&i2);
        }
        // The grown change may now swallow the common text before it.
        i = i.saturating_sub(2).max(1);
    }
    let mut marked = String::new();
    for piece in &pieces {
        match piece {
            Piece::Same(text) => marked.push_str(text),
            Piece::Changed { deleted, inserted } => {
                if !deleted.is_empty() {
                    marked.push_str(&format!("[-{deleted}-]"));
                }
                if !inserted.is_empty() {
                    marked.push_str(&format!("{{+{inserted}+}}"));
                }
            }
        }
    }
    marked
}

/// Counts of the kinds of change; a renumbered and reworded clause counts in both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    added: usize,
    removed: usize,
    reworded: usize,
    renumbered: usize,
}

impl Counts {
    fn of(changes: &[Change]) -> Self {
        let count = |f: fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
        Counts {
            added: count(|c| matches!(c, Change::Added { .. })),
            removed: count(|c| matches!(c, Change::Removed { .. })),
            reworded: count(Change::is_reworded),
            renumbered: count(Change::is_renumbered),
        }
    }

    fn is_empty(self) -> bool {
        self == Counts::default()
    }

    /// "新增1处、删除1处、修改2处、编号变更26处", leaving out the kinds that did not occur.
    fn describe(self, cite: impl Fn(Kind) -> String) -> String {
        [
            (Kind::Added, self.added),
            (Kind::Removed, self.removed),
            (Kind::Reworded, self.reworded),
            (Kind::Renumbered, self.renumbered),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(kind, n)| format!("{}{n}处{}", kind.label(), cite(kind)))
        .collect::<Vec<_>>()
        .join("、")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Added,
    Removed,
    Reworded,
    Renumbered,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Added => "新增",
            Kind::Removed => "删除",
            Kind::Reworded => "修改",
            Kind::Renumbered => "编号变更",
        }
    }
}

/// A report for people: each change with its citation and text (changed words marked), runs of
/// renumbered clauses on one line, and a closing line with the counts.
///
/// ```text
/// 新增 第十二条第（六）项
///   请求司法人员违反规定延长审理期限；
/// 编号变更 第十二条第（六）项至第（二十八）项 → 第十二条第（七）项至第（二十九）项
/// 共计：新增1处、编号变更23处。
/// ```
pub fn render(changes: &[Change]) -> String {
    let counts = Counts::of(changes);
    if counts.is_empty() {
        return "两个版本内容相同。\n".to_string();
    }
    let mut report = String::new();
    let mut line = |head: String, text: Option<&str>| {
        report.push_str(&head);
        report.push('\n');
        for paragraph in text.into_iter().flat_map(str::lines) {
            report.push_str("  ");
            report.push_str(paragraph);
            report.push('\n');
        }
    };
    let mut i = 0;
    while i < changes.len() {
        match &changes[i] {
            Change::Unchanged { .. } => {}
            Change::Added { id, text } => line(format!("新增 {}", id.citation()), Some(text)),
            Change::Removed { id, text } => line(format!("删除 {}", id.citation()), Some(text)),
            Change::Reworded { id, marked, .. } => {
                line(format!("修改 {}", id.citation()), Some(marked))
            }
            Change::RenumberedAndReworded {
                from, to, marked, ..
            } => line(
                format!("编号变更并修改 {} → {}", from.citation(), to.citation()),
                Some(marked),
            ),
            Change::Renumbered { from, to, .. } => {
                let (mut last_from, mut last_to) = (*from, *to);
                while let Some(Change::Renumbered { from, to, .. }) = changes.get(i + 1) {
                    if !(follows(last_from, *from) && follows(last_to, *to)) {
                        break;
                    }
                    (last_from, last_to) = (*from, *to);
                    i += 1;
                }
                line(
                    format!(
                        "编号变更 {} → {}",
                        span(*from, last_from),
                        span(*to, last_to)
                    ),
                    None,
                );
            }
        }
        i += 1;
    }
    report.push_str(&format!("共计：{}。\n", counts.describe(|_| String::new())));
    report
}

/// A one-paragraph change notice for a group message, e.g.
/// "本次修订：新增1处（第十八条）、修改2处（第一条、第十二条第（十八）项）、编号变更3处。"
///
/// Added, removed and reworded clauses are cited (at most five of each, in the new numbering
/// except for removed ones); renumbered clauses are only counted.
pub fn summary(changes: &[Change]) -> String {
    const CITED: usize = 5;
    let counts = Counts::of(changes);
    if counts.is_empty() {
        return "本次修订：条文内容与上一版本相同。".to_string();
    }
    let cite = |kind: Kind| {
        let ids: Vec<ClauseId> = changes
            .iter()
            .filter_map(|c| match (kind, c) {
                (Kind::Added, Change::Added { id, .. }) => Some(*id),
                (Kind::Removed, Change::Removed { id, .. }) => Some(*id),
                (Kind::Reworded, c) if c.is_reworded() => c.new_id(),
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            return String::new();
        }
        let cited: Vec<String> = ids.iter().take(CITED).map(|id| id.citation()).collect();
        let more = if ids.len() > CITED { "等" } else { "" };
        format!("（{}{more}）", cited.join("、"))
    };
    format!("本次修订：{}。", counts.describe(cite))
}

/// Whether `next` is the clause number right after `id` of the same kind and article.
fn follows(id: ClauseId, next: ClauseId) -> bool {
    match (id.item, next.item) {
        (Some(a), Some(b)) => id.article == next.article && b == a + 1,
        (None, None) => next.article == id.article + 1,
        _ => false,
    }
}

/// The citation of the clauses from `first` to `last`: 第十三条至第十七条, 第十二条第（六）项至第（九）项.
fn span(first: ClauseId, last: ClauseId) -> String {
    if first == last {
        return first.citation();
    }
    let tail = match (first.item, last.item) {
        (Some(_), Some(item)) if first.article == last.article => {
            format!("第（{}）项", crate::numerals::to_chinese(item.into()))
        }
        _ => last.citation(),
    };
    format!("{}至{tail}", first.citation())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "某规定\n第一章 总则\n第一条 甲乙丙丁。\n第二条 律师不得有下列行为：\n（一）请求受理案件；\n（二）请求采取保全措施；\n（三）代写裁判文书；\n（四）其他行为。\n第二章 附则\n第三条 自公布之日起施行。\n";

    fn regulation(text: &str) -> Regulation {
        Regulation::parse(text).expect("the test text parses")
    }

    fn id(s: &str) -> ClauseId {
        s.parse().expect("a valid clause id")
    }

    /// One short line per change: "=1", "+2.2", "-2.3", "~2.1", "2.2>2.3", "2.2>2.3~".
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

    fn diff_texts(old: &str, new: &str) -> Vec<Change> {
        diff(&regulation(old), &regulation(new))
    }

    #[test]
    fn identical_versions_are_all_unchanged() {
        let changes = diff_texts(SMALL, SMALL);
        assert_eq!(
            outline(&changes),
            ["=1", "=2", "=2.1", "=2.2", "=2.3", "=2.4", "=3"]
        );
        assert_eq!(render(&changes), "两个版本内容相同。\n");
        assert_eq!(summary(&changes), "本次修订：条文内容与上一版本相同。");
    }

    #[test]
    fn an_inserted_item_renumbers_the_ones_after_it() {
        let new = SMALL.replace(
            "（二）请求采取保全措施；\n（三）代写裁判文书；\n（四）",
            "（二）请求违规会见；\n（三）请求采取保全措施；\n（四）代写裁判文书；\n（五）",
        );
        let changes = diff_texts(SMALL, &new);
        assert_eq!(
            outline(&changes),
            [
                "=1", "=2", "=2.1", "+2.2", "2.2>2.3", "2.3>2.4", "2.4>2.5", "=3"
            ]
        );
        assert_eq!(
            render(&changes),
            "新增 第二条第（二）项\n  请求违规会见；\n\
             编号变更 第二条第（二）项至第（四）项 → 第二条第（三）项至第（五）项\n\
             共计：新增1处、编号变更3处。\n"
        );
    }

    #[test]
    fn a_removed_item_stays_where_it_was() {
        let new = SMALL.replace(
            "（二）请求采取保全措施；\n（三）代写裁判文书；\n（四）",
            "（二）代写裁判文书；\n（三）",
        );
        let changes = diff_texts(SMALL, &new);
        assert_eq!(
            outline(&changes),
            ["=1", "=2", "=2.1", "-2.2", "2.3>2.2", "2.4>2.3", "=3"]
        );
        assert_eq!(
            summary(&changes),
            "本次修订：删除1处（第二条第（二）项）、编号变更2处。"
        );
    }

    #[test]
    fn a_reworded_item_is_marked_and_an_unrelated_one_is_not_paired() {
        let new = SMALL
            .replace("请求采取保全措施", "请求违规采取或者解除保全措施")
            .replace("代写裁判文书", "收受当事人财物");
        let changes = diff_texts(SMALL, &new);
        assert_eq!(
            outline(&changes),
            ["=1", "=2", "=2.1", "~2.2", "-2.3", "+2.3", "=2.4", "=3"]
        );
        let Change::Reworded { marked, .. } = &changes[3] else {
            panic!("{:?}", changes[3])
        };
        assert_eq!(marked, "请求{+违规+}采取{+或者解除+}保全措施；");
        assert!(render(&changes).ends_with("共计：新增1处、删除1处、修改1处。\n"));
    }

    #[test]
    fn articles_pair_only_with_articles() {
        // Article 3's text becomes an item's text: still one article removed and one item added.
        let new = SMALL.replace(
            "（四）其他行为。\n第二章 附则\n第三条 自公布之日起施行。\n",
            "（四）其他行为；\n（五）自公布之日起施行。\n",
        );
        let changes = diff_texts(SMALL, &new);
        assert_eq!(
            outline(&changes),
            ["=1", "=2", "=2.1", "=2.2", "=2.3", "~2.4", "+2.5", "-3"]
        );
    }

    #[test]
    fn an_inserted_article_renumbers_the_next_and_its_items() {
        let new = SMALL
            .replace("第二条 律师", "第二条 新增条文。\n第三条 律师")
            .replace("第三条 自公布", "第四条 自公布");
        let changes = diff_texts(SMALL, &new);
        assert_eq!(
            outline(&changes),
            [
                "=1", "+2", "2>3", "2.1>3.1", "2.2>3.2", "2.3>3.3", "2.4>3.4", "3>4"
            ]
        );
        let report = render(&changes);
        assert!(report.contains("编号变更 第二条 → 第三条\n"), "{report}");
        assert!(
            report
                .contains("编号变更 第二条第（一）项至第（四）项 → 第三条第（一）项至第（四）项\n"),
            "{report}"
        );
        assert!(report.contains("编号变更 第三条 → 第四条\n"), "{report}");
    }

    #[test]
    fn marks_group_a_changed_phrase() {
        for (old, new, marked) in [
            ("甲乙丙丁", "甲乙丙丁", "甲乙丙丁"),
            ("甲乙丙丁", "甲戊己丁", "甲[-乙丙-]{+戊己+}丁"),
            ("甲乙丙丁", "甲丁", "甲[-乙丙-]丁"),
            ("甲丁", "甲乙丙丁", "甲{+乙丙+}丁"),
            // The shared "赠" and "、" do not split the replaced phrase.
            (
                "向其馈赠礼品、金钱、有价证券等；",
                "向其赠送财物、有价证券等；",
                "向其[-馈赠礼品、金钱-]{+赠送财物+}、有价证券等；",
            ),
            (
                "第一段。\n第二段。",
                "第一段。\n第三段。",
                "第一段。\n第[-二-]{+三+}段。",
            ),
        ] {
            assert_eq!(mark(old, new), marked, "{old} → {new}");
        }
    }

    #[test]
    fn spans_cite_runs() {
        assert_eq!(span(id("12.6"), id("12.6")), "第十二条第（六）项");
        assert_eq!(
            span(id("12.6"), id("12.28")),
            "第十二条第（六）项至第（二十八）项"
        );
        assert_eq!(span(id("13"), id("17")), "第十三条至第十七条");
        assert!(follows(id("12.6"), id("12.7")));
        assert!(!follows(id("12.6"), id("13.7")));
        assert!(!follows(id("12"), id("12.1")));
    }
}
