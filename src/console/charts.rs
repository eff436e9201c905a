//! Bar charts drawn as SVG on the server: no script, no library, readable without colour.

use maud::{Markup, html};

/// Columns, one per label (weeks), with the value above each.
pub fn columns(caption: &str, points: &[(String, i64)]) -> Markup {
    const HEIGHT: f64 = 160.0;
    const BAR: f64 = 28.0;
    const GAP: f64 = 12.0;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let width = (points.len() as f64 * (BAR + GAP) + GAP).max(120.0);
    let total = HEIGHT + 44.0;
    html! {
        svg.chart role="img" aria-label=(caption) viewBox={"0 0 " (width) " " (total)}
            width=(width) height=(total) xmlns="http://www.w3.org/2000/svg" {
            title { (caption) }
            line x1="0" y1=(HEIGHT + 18.0) x2=(width) y2=(HEIGHT + 18.0) class="axis" {}
            @for (i, (label, value)) in points.iter().enumerate() {
                @let x = GAP + i as f64 * (BAR + GAP);
                @let h = (*value as f64 / max * HEIGHT).round();
                @let y = HEIGHT + 18.0 - h;
                g {
                    title { (label) "：" (value) }
                    rect x=(x) y=(y) width=(BAR) height=(h) class="bar" {}
                    text x=(x + BAR / 2.0) y=(y - 4.0) text-anchor="middle" class="value" { (value) }
                    text x=(x + BAR / 2.0) y=(total - 8.0) text-anchor="middle" class="label" { (label) }
                }
            }
        }
    }
}

/// Horizontal bars, one per row (clauses), the label left and the count right.
pub fn bars(caption: &str, rows: &[(String, i64)]) -> Markup {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 210.0;
    const LENGTH: f64 = 200.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let width = LABEL + LENGTH + 48.0;
    let height = (rows.len() as f64 * ROW).max(ROW);
    html! {
        svg.chart role="img" aria-label=(caption) viewBox={"0 0 " (width) " " (height)}
            width=(width) height=(height) xmlns="http://www.w3.org/2000/svg" {
            title { (caption) }
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let y = i as f64 * ROW;
                @let w = (*value as f64 / max * LENGTH).round().max(1.0);
                g {
                    title { (label) "：" (value) }
                    text x="0" y=(y + 17.0) class="label" { (label) }
                    rect x=(LABEL) y=(y + 4.0) width=(w) height=(ROW - 8.0) class="bar" {}
                    text x=(LABEL + w + 6.0) y=(y + 17.0) class="value" { (value) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar_heights(svg: &str) -> Vec<f64> {
        svg.split("<rect ")
            .skip(1)
            .map(|r| {
                let h = r.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn columns_are_as_tall_as_their_values() {
        let svg = columns(
            "每周提问数",
            &[("W46".into(), 10), ("W47".into(), 5), ("W48".into(), 0)],
        )
        .into_string();
        assert_eq!(bar_heights(&svg), vec![160.0, 80.0, 0.0]);
        assert!(svg.contains("W47：5"), "{svg}");
        assert!(svg.starts_with("<svg"));
    }

    #[test]
    fn labels_are_escaped() {
        let svg = bars("条款", &[("<script>".into(), 3)]).into_string();
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn an_empty_chart_is_still_a_picture() {
        let svg = bars("条款", &[]).into_string();
        assert!(svg.contains("<title>条款</title>"));
        assert!(bar_heights(&svg).is_empty());
    }
}
