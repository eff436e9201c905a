//! Puts a chat message into one canonical form: half-width, lower case, no mentions, emoji or filler.

/// Names the bot is mentioned by when the platform leaves the mention in the text.
const BOT_NAMES: &[&str] = &["律规助手", "机器人", "lawbot"];

/// Greetings and filler that carry no meaning for matching, removed from the start of a message.
const LEADING_FILLER: &[&str] = &[
    "请问一下",
    "请问",
    "请教一下",
    "请教下",
    "请教",
    "各位好",
    "大家好",
    "各位",
    "你好",
    "您好",
    "老师好",
    "hi",
    "hello",
];

/// Normalises a message: full-width forms to half-width, ASCII to lower case, `@name` mentions,
/// emoji and control characters removed, white space folded (and dropped between CJK characters),
/// leading greetings removed.
pub fn normalize(text: &str) -> String {
    let mut half = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        };
        if is_emoji(c) || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        half.push(c.to_ascii_lowercase());
    }
    let without_mentions = strip_mentions(&half);
    let folded = fold_spaces(&without_mentions);
    strip_filler(&folded).to_string()
}

/// Whether a message, once normalised, says nothing (e.g. only "@律规助手").
pub fn is_empty(normalized: &str) -> bool {
    normalized
        .chars()
        .all(|c| c.is_whitespace() || c.is_ascii_punctuation() || is_cjk_punctuation(c))
}

fn strip_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let starts_word = out.is_empty() || out.ends_with(char::is_whitespace);
        if !starts_word {
            out.push('@');
            rest = after;
        } else if let Some(name) = BOT_NAMES.iter().find(|n| after.starts_with(*n)) {
            rest = &after[name.len()..];
        } else if let Some(end) = after
            .find(char::is_whitespace)
            .or(Some(after.len()))
            .filter(|&e| e > 0 && e <= 40)
        {
            rest = &after[end..];
        } else {
            out.push('@');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn fold_spaces(text: &str) -> String {
    let chars: Vec<char> = text
        .split_whitespace()
        .flat_map(|w| w.chars().chain([' ']))
        .collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            match (before, after) {
                (Some(b), Some(a)) if !(b.is_ascii() && a.is_ascii()) => {}
                (Some(_), Some(_)) => out.push(' '),
                _ => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn strip_filler(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start_matches(|c: char| {
            c == ' ' || c == ',' || c == '，' || c == '、' || c == ':'
        });
        match LEADING_FILLER
            .iter()
            .find(|f| trimmed.starts_with(*f) && trimmed.len() > f.len())
        {
            Some(f) => text = &trimmed[f.len()..],
            None => return trimmed,
        }
    }
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1f000..=0x1faff | 0x2600..=0x27bf | 0x2b00..=0x2bff | 0xfe00..=0xfe0f | 0x200d | 0x20e3 | 0xe0020..=0xe007f)
}

fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303f | 0xff00..=0xffef) || "…—·“”‘’".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_mentions_emoji_and_filler() {
        for (input, expected) in [
            (
                "@律规助手 法官老婆请我吃饭，我能去吗",
                "法官老婆请我吃饭,我能去吗",
            ),
            ("@律规助手法官请我吃饭😅", "法官请我吃饭"),
            ("请问　１２条（１９）", "12条(19)"),
            ("Can I invite the JUDGE?", "can i invite the judge?"),
            ("各位好，请教下 执行 法官 借车", "执行法官借车"),
            ("@张三 @李四 第十条", "第十条"),
            ("第十条 @robota", "第十条"),
            ("邮箱 a@b.com 可以吗", "邮箱a@b.com可以吗"),
            ("审我案子的法官乔迁新居🙃", "审我案子的法官乔迁新居"),
        ] {
            assert_eq!(normalize(input), expected, "{input}");
        }
    }

    #[test]
    fn a_bare_mention_is_empty() {
        assert!(is_empty(&normalize("@律规助手")));
        assert!(is_empty(&normalize("@律规助手 ？🙏")));
        assert!(is_empty(&normalize("@RobotA")));
        assert!(!is_empty(&normalize("@律规助手 帮助")));
    }
}
