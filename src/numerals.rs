//! Chinese and Arabic numerals as lawyers type them: 十八, 二十七, 18, １８.

/// Reads a number written in Chinese (一 … 九十九, with 〇/零 and 两) or Arabic digits.
pub fn parse_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok().filter(|&n| n > 0);
    }
    let digits: Vec<u32> = s.chars().map(cn_digit).collect::<Option<_>>()?;
    let value = match digits.as_slice() {
        [d] if *d < 10 => *d,
        [10] => 10,
        [10, u] if *u < 10 => 10 + u,
        [t, 10] if *t < 10 => t * 10,
        [t, 10, u] if *t < 10 && *u < 10 => t * 10 + u,
        _ => return None,
    };
    (value > 0).then_some(value)
}

/// Writes 1 … 99 in Chinese, the way the regulation numbers its articles and items.
pub fn to_chinese(n: u32) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_string(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        20..=99 => format!(
            "{}十{}",
            DIGITS[(n / 10) as usize],
            if n.is_multiple_of(10) {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        _ => n.to_string(),
    }
}

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        '十' | '拾' => 10,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chinese_and_arabic_numbers() {
        for (text, n) in [
            ("一", 1),
            ("十", 10),
            ("十八", 18),
            ("二十", 20),
            ("二十七", 27),
            ("九十九", 99),
            ("两", 2),
            ("18", 18),
            ("028", 28),
        ] {
            assert_eq!(parse_number(text), Some(n), "{text}");
        }
        for bad in ["", "零", "0", "十十", "一二", "百", "x"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_chinese_numbers_that_read_back() {
        for n in 1..100 {
            assert_eq!(parse_number(&to_chinese(n)), Some(n));
        }
        assert_eq!(to_chinese(12), "十二");
        assert_eq!(to_chinese(28), "二十八");
    }
}
