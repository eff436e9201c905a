//! Golden questions: one or more plain-language questions per clause, each asserting the clause id
//! the engine puts first, over the built-in regulation and lexicon.

use std::sync::LazyLock;

use lawbot::{Engine, Intent};

static ENGINE: LazyLock<Engine> =
    LazyLock::new(|| Engine::builtin().expect("the built-in lexicon loads"));

/// (expected first clause, question). Written for these tests, not taken from any evaluation set.
const GOLDEN: &[(&str, &str)] = &[
    ("1", "这个规定是根据什么文件出台的？"),
    ("2", "规定对律师执业提了哪些政治要求"),
    ("3", "外地律所的律师在巴州办案也适用这个规定吗"),
    ("4", "人民陪审员算不算规定里的司法人员"),
    ("4", "规定说的特殊关系具体是指什么"),
    ("5", "规定希望律师和法官之间是一种什么样的关系"),
    ("6", "律师与司法人员接触交往有什么总的要求"),
    ("7", "律师应该怎样依法表达对案件的意见"),
    (
        "8",
        "开庭时发现审判长是我亲舅舅，他没有回避，我要不要申请？",
    ),
    ("9", "当事人想到抖音上骂判他输的法官，我该怎么劝"),
    ("10", "想和承办法官当面交换一下代理意见，在哪里谈才合规"),
    ("11", "执行法官话里话外要好处，不给就拖着，我该怎么应对"),
    ("12", "负面清单一共列了多少项"),
    ("12.1", "找立案庭的熟人把不符合条件的案子先立上，行吗"),
    ("12.2", "能不能托人让庭长把案子分给我熟悉的法官办"),
    ("12.3", "想请法官帮忙把对方的账户多冻结一点"),
    ("12.4", "请派出所的朋友帮我查一下对方的通话记录"),
    ("12.5", "让法官给原告施压，逼他撤诉，可以吗"),
    ("12.6", "托执行局的熟人把执行拖一拖，先别划款"),
    ("12.7", "请执行法官把被执行公司的股东追加进来"),
    ("12.8", "能不能让执行局把案外人的房子一起查封了"),
    ("12.9", "找执行法官打个招呼，先出个终本裁定"),
    ("12.10", "当事人没给特别授权，我能去法院把执行款领了吗"),
    ("12.11", "把案子材料发给认识的法官，请他给个法律意见"),
    ("12.12", "请一审法官给中院领导打个电话说说我们的意见"),
    ("12.13", "我表哥在检察院，让他打听下我这个案子内部什么意见"),
    ("12.14", "派出所民警给我介绍案源，我按比例给他返点"),
    ("12.15", "周末约承办法官去茶楼喝茶，聊聊案子"),
    ("12.16", "当事人要给检察官送钱，让我帮忙搭个线"),
    ("12.17", "法官收了当事人的钱，跟我对半分"),
    ("12.18", "承办法官嫁女儿，我随两千块份子钱"),
    ("12.19", "检察官想跟我合伙开个茶馆，他出钱我出力"),
    ("12.20", "春节给执行局的法官每人送一张加油卡"),
    ("12.21", "律所周年庆想邀请法院院长来致辞"),
    ("12.22", "承办法官的丈母娘想请我免费打一场官司"),
    ("12.23", "案子还没判，法官想找我借十万块周转"),
    ("12.24", "法官的儿子没过法考，想在我们所挂名领工资"),
    (
        "12.25",
        "法官想低价买执行案子里查封的那套房子，让我帮着操作",
    ),
    ("12.26", "跟法官商量好，让评估公司把评估价压低"),
    ("12.27", "法官让我帮他起草判决书"),
    ("12.28", "经常和承办法官一起打麻将，不赌钱，算违规吗"),
    ("13", "违反这个规定会不会记入诚信档案"),
    ("14", "违反规定会受到什么处分"),
    ("15", "律所主任对本所律师违反规定要承担什么责任"),
    ("16", "上级出了新规定跟这个不一致，按哪个执行"),
    ("17", "这个规定什么时候开始施行，有效期多久"),
    (
        "12.15",
        "Can I have dinner with the judge who is handling my case?",
    ),
    (
        "12.23",
        "The judge asked to borrow my car for a week. Should I lend it?",
    ),
    (
        "12.18",
        "The prosecutor's son is getting married. Can I give a red envelope?",
    ),
];

/// Questions the regulation does not cover: no clause may come back.
const NOT_COVERED: &[&str] = &[
    "律师执业证年检要带什么材料",
    "对方律师约我周末吃饭，能去吗",
    "当事人送了我一盒茶叶表示感谢",
    "民事案件的举证期限一般多长",
    "明天天气怎么样",
    "帮我算一下诉讼费",
];

#[test]
fn every_clause_has_a_golden_question() {
    for clause in ENGINE.regulation.clauses() {
        let id = clause.id.to_string();
        assert!(
            GOLDEN.iter().any(|(g, _)| *g == id),
            "no golden question for clause {id}"
        );
    }
}

#[test]
fn golden_questions_get_their_clause_first() {
    let mut wrong = Vec::new();
    for (expected, question) in GOLDEN {
        let answer = ENGINE.answer(question);
        let got: Vec<String> = answer.matches.iter().map(|m| m.id.to_string()).collect();
        if got.first().map(String::as_str) != Some(*expected) {
            wrong.push(format!(
                "{question}: expected {expected} first, got {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} golden questions wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn uncovered_questions_get_no_clause() {
    for question in NOT_COVERED {
        let answer = ENGINE.answer(question);
        assert_eq!(
            answer.intent,
            Intent::NotCovered,
            "{question}: {:?}",
            answer.matches
        );
        assert!(answer.matches.is_empty());
    }
}

#[test]
fn two_acts_in_one_question_both_come_back() {
    let answer =
        ENGINE.answer("法官想借我的车开几天，另外他女儿想来我们所挂个名领工资，这两件事行吗");
    let got: Vec<String> = answer.matches.iter().map(|m| m.id.to_string()).collect();
    assert!(
        got.contains(&"12.23".to_string()) && got.contains(&"12.24".to_string()),
        "{got:?}"
    );
}
