//! Renders an answer as the text a group sees: a conclusion, the clauses verbatim, related clauses, a footer.

use std::fmt::Write;

use jiff::civil::Date;

use crate::engine::{Answer, Engine, Intent, Via};
use crate::regulation::{Clause, ClauseId, Validity};

/// Examples shown in the help and in a "not covered" reply.
pub const EXAMPLES: &[&str] = &[
    "法官的爱人请我吃饭，能去吗？",
    "承办法官想借我的车开两天",
    "第十二条第十八项是什么",
    "发现审判长是我表哥，要申请回避吗？",
];

/// The full reply to an answer, as of `today` (the validity notice depends on it).
pub fn render(engine: &Engine, answer: &Answer, today: Date) -> String {
    let mut out = match answer.intent {
        Intent::Help => help(engine),
        Intent::NegativeList => negative_list(engine),
        Intent::NotCovered => not_covered(engine),
        Intent::Clauses => clauses(engine, answer),
    };
    out.push_str("\n——\n");
    out.push_str(&footer(engine, today));
    out
}

fn clauses(engine: &Engine, answer: &Answer) -> String {
    let regulation = &engine.regulation;
    let shown: Vec<&Clause> = answer
        .matches
        .iter()
        .filter_map(|m| regulation.get(m.id))
        .collect();
    let by_number = answer
        .matches
        .first()
        .is_some_and(|m| m.via == Via::Reference);
    let mut out = String::new();
    if !by_number {
        let _ = writeln!(out, "{}\n", conclusion(engine, &shown));
    }
    for (i, clause) in shown.iter().enumerate() {
        let _ = writeln!(out, "【{}】", clause.citation);
        if by_number || i > 0 {
            let _ = writeln!(out, "要点：{}。", summary(engine, clause.id));
        }
        let _ = writeln!(out, "{}", clause.text);
        if !clause.items.is_empty() {
            out.push_str(&item_list(engine, clause));
        }
        out.push('\n');
    }
    let mut related: Vec<ClauseId> = Vec::new();
    for clause in &shown {
        for other in engine.lexicon.related.get(&clause.id).into_iter().flatten() {
            if !shown.iter().any(|c| c.id == *other) && !related.contains(other) {
                related.push(*other);
            }
        }
    }
    if !related.is_empty() {
        let citations: Vec<String> = related.iter().take(4).map(|id| id.citation()).collect();
        let _ = writeln!(
            out,
            "相关条款：{}（发送条款编号可查看原文）",
            citations.join("、")
        );
    }
    out
}

/// One line that fits what was asked: forbidden, what to do, or what a clause means.
pub fn conclusion(engine: &Engine, clauses: &[&Clause]) -> String {
    let Some(first) = clauses.first() else {
        return String::new();
    };
    let list = engine.regulation.list_article().map(|c| c.id.article);
    let in_list = |c: &&&Clause| c.id.item.is_some() && Some(c.id.article) == list;
    let forbidden: Vec<&&Clause> = clauses.iter().filter(in_list).collect();
    if forbidden.len() > 1 && in_list(&first) {
        let items: Vec<String> = forbidden
            .iter()
            .map(|c| {
                format!(
                    "第（{}）项",
                    crate::numerals::to_chinese(c.id.item.unwrap_or(0).into())
                )
            })
            .collect();
        return format!(
            "结论：不可以。你问到的做法分别属于{}负面清单{}禁止的行为。",
            first.id.parent().citation(),
            items.join("、")
        );
    }
    let summary = summary(engine, first.id);
    if in_list(&first) {
        format!(
            "结论：不可以。{summary}，这是{}负面清单明令禁止的行为。",
            first.id.parent().citation()
        )
    } else if first.id.item.is_none() && (7..=11).contains(&first.id.article) {
        format!("结论：应当这样做——{summary}。")
    } else {
        format!("说明：{summary}。")
    }
}

fn summary(engine: &Engine, id: ClauseId) -> &str {
    engine
        .lexicon
        .summaries
        .get(&id)
        .map_or("", String::as_str)
        .trim_end_matches('。')
}

fn item_list(engine: &Engine, article: &Clause) -> String {
    let mut out = String::new();
    for id in &article.items {
        let number = id
            .item
            .map(|i| crate::numerals::to_chinese(i.into()))
            .unwrap_or_default();
        let _ = writeln!(out, "（{number}）{}", summary(engine, *id));
    }
    let _ = writeln!(
        out,
        "（共{}项；发送「第{}条第N项」查看原文）",
        article.items.len(),
        crate::numerals::to_chinese(article.id.article.into())
    );
    out
}

fn negative_list(engine: &Engine) -> String {
    match engine.regulation.list_article() {
        Some(list) => format!(
            "【{}】{}\n{}",
            list.citation,
            list.text,
            item_list(engine, list)
        ),
        None => "这一版规定没有负面清单。\n".to_string(),
    }
}

fn help(engine: &Engine) -> String {
    let mut out = format!(
        "我是律规助手，解答《{}》中律师与法官、检察官、警察等司法人员接触交往的规定。\n@我并用大白话提问即可，例如：\n",
        engine.metadata.title
    );
    for example in EXAMPLES {
        let _ = writeln!(out, "· {example}");
    }
    out.push_str("也可以按编号查原文（「第十条」「12.18」「负面清单第七项」），发送「负面清单」查看全部禁止行为。\n");
    out.push_str(
        "隐私：我不记录是谁提的问题。为统计和完善词库，只记下提问时间、所在群、匹配到的条款；\
         没有匹配到条款的问题会保留原文，到期自动删除。\n",
    );
    out
}

fn not_covered(engine: &Engine) -> String {
    let mut out = format!(
        "这个问题本规定没有涉及。我只解答《{}》中律师与司法人员接触交往的规定，没有找到与你的问题对应的条款。\n可以这样问：\n",
        engine.metadata.title
    );
    for example in EXAMPLES.iter().take(3) {
        let _ = writeln!(out, "· {example}");
    }
    out.push_str("发送「帮助」查看用法，发送「负面清单」查看全部禁止行为。\n");
    out
}

/// Reference only; who interprets it; its status and whether it is in force on `today`.
pub fn footer(engine: &Engine, today: Date) -> String {
    let m = &engine.metadata;
    let validity = match m.validity(today) {
        Validity::NotYetEffective { from } => format!("尚未施行，自{}起施行。", chinese_date(from)),
        Validity::InForce { until: Some(until) } => {
            format!(
                "自{}起施行，有效期至{}。",
                chinese_date(m.effective),
                chinese_date(until)
            )
        }
        Validity::InForce { until: None } => format!("自{}起施行。", chinese_date(m.effective)),
        Validity::Expired { on } => format!(
            "注意：本规定自{}起施行，有效期已于{}届满，现已失效；是否延期或有新规定，请向{}确认。",
            chinese_date(m.effective),
            chinese_date(on),
            m.interpreter
        ),
    };
    format!(
        "仅供参考，不构成法律意见，以{}的解释为准。\n《{}》（{}，{}发布）\n{}",
        m.interpreter, m.title, m.status, m.issuer, validity
    )
}

fn chinese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}
