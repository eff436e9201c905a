//! Splits a long message into numbered parts that fit a robot's size limit, at paragraph boundaries.

use crate::store::Robot;

/// Bytes of markdown one webhook message may carry, less room for a part number.
/// WeCom group robots take 4,096 bytes of markdown; DingTalk custom robots 20,000 bytes of body.
pub fn part_limit(robot: &Robot) -> usize {
    match robot {
        Robot::Wecom { .. } => 4096 - 64,
        // JSON escaping of newlines and quotes adds bytes to DingTalk's 20,000-byte body limit.
        Robot::Dingtalk { .. } => 16_000,
        // msgParam, a JSON string inside the JSON body, holds at most 15,000 bytes.
        Robot::DingtalkApp { .. } => 12_000,
    }
}

/// Splits at blank lines, then at line ends, then (for a single overlong line) at characters;
/// every part but a lone one is prefixed with `（i/n）`. Nothing is dropped.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let text = text.trim();
    if text.len() <= limit {
        return vec![text.to_string()];
    }
    let mut pieces: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n") {
        push_fitting(&mut pieces, paragraph, "\n\n", limit, |p| {
            let mut lines = Vec::new();
            for line in p.lines() {
                push_fitting(&mut lines, line, "\n", limit, |l| chunks(l, limit));
            }
            lines
        });
    }
    let n = pieces.len();
    if n == 1 {
        return pieces;
    }
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("（{}/{n}）\n{p}", i + 1))
        .collect()
}

/// Appends `piece` to the last part if it fits, else starts a new part; a piece too large on its
/// own is broken up by `smaller`.
fn push_fitting(
    parts: &mut Vec<String>,
    piece: &str,
    joiner: &str,
    limit: usize,
    smaller: impl Fn(&str) -> Vec<String>,
) {
    let pieces = if piece.len() > limit {
        smaller(piece)
    } else {
        vec![piece.to_string()]
    };
    for piece in pieces {
        match parts.last_mut() {
            Some(last) if last.len() + joiner.len() + piece.len() <= limit => {
                last.push_str(joiner);
                last.push_str(&piece);
            }
            _ => parts.push(piece),
        }
    }
}

fn chunks(line: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in line.chars() {
        if current.len() + c.len_utf8() > limit {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_stay_whole() {
        assert_eq!(split("  第一段\n\n第二段 ", 100), vec!["第一段\n\n第二段"]);
    }

    #[test]
    fn long_messages_split_at_paragraphs_numbered_and_nothing_is_lost() {
        let paragraphs: Vec<String> = (0..10)
            .map(|i| format!("第{i}段：{}", "很长的内容".repeat(20)))
            .collect();
        let text = paragraphs.join("\n\n");
        let limit = 700;
        let parts = split(&text, limit);
        assert!(parts.len() > 1);
        for (i, part) in parts.iter().enumerate() {
            assert!(
                part.starts_with(&format!("（{}/{}）\n", i + 1, parts.len())),
                "{part}"
            );
            assert!(part.len() <= limit + "（10/10）\n".len(), "{}", part.len());
        }
        let joined: String = parts
            .iter()
            .map(|p| p.split_once('\n').unwrap().1)
            .collect::<Vec<_>>()
            .join("\n\n");
        assert_eq!(joined, text);
    }

    #[test]
    fn an_overlong_line_is_cut_at_characters() {
        let line = "字".repeat(100);
        let parts = split(&line, 90);
        assert_eq!(parts.len(), 4);
        let rejoined: String = parts
            .iter()
            .map(|p| p.split_once('\n').unwrap().1)
            .collect();
        assert_eq!(rejoined, line);
    }
}
