//! Bar charts drawn on the server as inline SVG: one bar per period, the axis from zero to a
//! round top, a dashed line at the target where there is one, a `<title>` and a `<desc>` that
//! say what the chart shows, each bar's value in its own `<title>`. Readable with no
//! JavaScript, and by a screen reader (the table beside it holds the same values).
//!
//! Invariant: every bar lies inside the plot: heights are scaled to the axis, which spans zero
//! and every value and the target.

use maud::{html, Markup};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// The drawing's size in SVG units (it scales to its box).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 240.0;
/// The plot inside the margins: room for the value labels left (at least `LEFT`, more for
/// wide ones) and the periods below.
const LEFT: f64 = 64.0;
/// The band left of the value labels that the rotated axis label takes.
const Y_LABEL_BAND: f64 = 22.0;
/// The width of one character of the 11px labels, generously (digits, `.`, `€`, `%`).
const CHAR_WIDTH: f64 = 6.8;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 48.0;
/// The most period labels written under the axis; with more, every n-th.
const X_LABELS_MAX: usize = 12;
/// Horizontal grid lines above zero.
const TICKS: u32 = 4;

/// One bar: its period's label and its value, if it has one.
pub struct Bar {
    pub label: String,
    pub value: Option<Decimal>,
    /// The value as the page writes it (`11.764,00 €`).
    pub shown: String,
}

/// What a chart shows.
pub struct Chart<'a> {
    /// What the chart is of (its `<title>`).
    pub title: &'a str,
    /// One sentence on what it shows (its `<desc>`).
    pub description: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub bars: Vec<Bar>,
    /// The target, with its text, where the terms have one.
    pub target: Option<(Decimal, String)>,
    /// Writes an axis value (`1.000`, `30%`).
    pub tick: &'a dyn Fn(Decimal) -> String,
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least `value`; 1 for 0.
pub fn round_top(value: Decimal) -> Decimal {
    if value <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let mut step = Decimal::new(1, 6);
    loop {
        for factor in [1, 2, 5] {
            let candidate = step * Decimal::from(factor);
            if candidate >= value {
                return candidate.normalize();
            }
        }
        step *= Decimal::TEN;
    }
}

/// The axis: from the lowest of zero and the values to a round top above the highest.
pub fn axis(values: impl IntoIterator<Item = Decimal>) -> (Decimal, Decimal) {
    let (mut low, mut high) = (Decimal::ZERO, Decimal::ZERO);
    for value in values {
        low = low.min(value);
        high = high.max(value);
    }
    let bottom = if low < Decimal::ZERO {
        -round_top(-low)
    } else {
        Decimal::ZERO
    };
    (bottom, round_top(high))
}

fn f(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// The left margin: wide enough for the widest value label beside the axis label's band.
fn left_margin(tick_texts: &[String]) -> f64 {
    let widest = tick_texts
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0);
    (Y_LABEL_BAND + 6.0 + CHAR_WIDTH * widest as f64).max(LEFT)
}

/// The y coordinate of `value` on an axis from `bottom` to `top`.
pub fn y_of(value: Decimal, bottom: Decimal, top: Decimal) -> f64 {
    let span = f(top - bottom);
    let plot = HEIGHT - TOP - BOTTOM;
    TOP + plot - (f(value - bottom) / span) * plot
}

fn coordinate(value: f64) -> String {
    format!("{value:.1}")
}

/// The chart as an inline `<svg>`.
pub fn bar_chart(chart: &Chart<'_>) -> Markup {
    let values = chart
        .bars
        .iter()
        .filter_map(|bar| bar.value)
        .chain(chart.target.as_ref().map(|(target, _)| *target));
    let (bottom, top) = axis(values);
    let ticks: Vec<Decimal> = (0..=TICKS)
        .map(|step| bottom + (top - bottom) * Decimal::from(step) / Decimal::from(TICKS))
        .collect();
    let tick_texts: Vec<String> = ticks.iter().map(|tick| (chart.tick)(*tick)).collect();
    let left = left_margin(&tick_texts);
    let plot_width = WIDTH - left - RIGHT;
    let count = chart.bars.len().max(1);
    let slot = plot_width / count as f64;
    let bar_width = (slot * 0.7).max(1.0);
    let zero = y_of(Decimal::ZERO, bottom, top);
    let every = chart.bars.len().div_ceil(X_LABELS_MAX).max(1);
    html! {
        svg.chart role="img" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
            xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet" {
            title { (chart.title) }
            desc { (chart.description) }
            @for (tick, text) in ticks.iter().zip(&tick_texts) {
                @let y = coordinate(y_of(*tick, bottom, top));
                line.grid x1=(coordinate(left)) x2=(coordinate(WIDTH - RIGHT)) y1=(y) y2=(y) {}
                text.tick x=(coordinate(left - 6.0)) y=(y) text-anchor="end" dominant-baseline="middle" {
                    (text)
                }
            }
            @for (index, bar) in chart.bars.iter().enumerate() {
                @let x = left + slot * index as f64 + (slot - bar_width) / 2.0;
                @if let Some(value) = bar.value {
                    @let y = y_of(value, bottom, top);
                    rect.bar x=(coordinate(x)) y=(coordinate(y.min(zero)))
                        width=(coordinate(bar_width)) height=(coordinate((zero - y).abs())) {
                        title { (bar.label) ": " (bar.shown) }
                    }
                }
                @if index % every == 0 {
                    text.period x=(coordinate(x + bar_width / 2.0)) y=(coordinate(HEIGHT - BOTTOM + 16.0))
                        text-anchor="middle" { (bar.label) }
                }
            }
            @if let Some((target, shown)) = &chart.target {
                @let y = coordinate(y_of(*target, bottom, top));
                line.target x1=(coordinate(left)) x2=(coordinate(WIDTH - RIGHT)) y1=(y) y2=(y) {
                    title { (shown) }
                }
            }
            line.axis x1=(coordinate(left)) x2=(coordinate(left)) y1=(coordinate(TOP))
                y2=(coordinate(HEIGHT - BOTTOM)) {}
            line.axis x1=(coordinate(left)) x2=(coordinate(WIDTH - RIGHT)) y1=(coordinate(zero))
                y2=(coordinate(zero)) {}
            text.axis-label x=(coordinate(left + plot_width / 2.0)) y=(coordinate(HEIGHT - 6.0))
                text-anchor="middle" { (chart.x_label) }
            text.axis-label x="12" y=(coordinate(TOP + (HEIGHT - TOP - BOTTOM) / 2.0))
                text-anchor="middle"
                transform={ "rotate(-90 12 " (coordinate(TOP + (HEIGHT - TOP - BOTTOM) / 2.0)) ")" } {
                (chart.y_label)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn chart(values: &[Option<&str>], target: Option<&str>) -> String {
        let bars = values
            .iter()
            .enumerate()
            .map(|(index, value)| Bar {
                label: format!("2024-Q{}", index + 1),
                value: value.map(d),
                shown: value.unwrap_or("n/a").to_owned(),
            })
            .collect();
        let tick = |value: Decimal| value.normalize().to_string();
        bar_chart(&Chart {
            title: "Accesses",
            description: "Accesses by quarter",
            x_label: "Period",
            y_label: "accesses",
            bars,
            target: target.map(|t| (d(t), format!("target {t}"))),
            tick: &tick,
        })
        .into_string()
    }

    #[test]
    fn the_top_of_the_axis_is_round() {
        assert_eq!(round_top(d("0")), d("1"));
        assert_eq!(round_top(d("7")), d("10"));
        assert_eq!(round_top(d("10")), d("10"));
        assert_eq!(round_top(d("11")), d("20"));
        assert_eq!(round_top(d("260")), d("500"));
        assert_eq!(round_top(d("0.45")), d("0.5"));
        assert_eq!(round_top(d("11764")), d("20000"));
    }

    #[test]
    fn the_axis_spans_zero_every_value_and_the_target() {
        assert_eq!(axis([d("3"), d("8")]), (d("0"), d("10")));
        assert_eq!(axis([d("-3"), d("8")]), (d("-5"), d("10")));
        assert_eq!(axis([]), (d("0"), d("1")));
    }

    #[test]
    fn a_value_at_the_top_is_drawn_at_the_top_of_the_plot_and_zero_at_its_foot() {
        assert!((y_of(d("10"), d("0"), d("10")) - TOP).abs() < 1e-9);
        assert!((y_of(d("0"), d("0"), d("10")) - (HEIGHT - BOTTOM)).abs() < 1e-9);
        assert!(
            (y_of(d("5"), d("0"), d("10")) - (TOP + (HEIGHT - TOP - BOTTOM) / 2.0)).abs() < 1e-9
        );
    }

    #[test]
    fn each_value_is_one_bar_with_its_title_and_a_missing_one_is_none() {
        let svg = chart(&[Some("4"), None, Some("10")], None);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<title>Accesses</title>"));
        assert!(svg.contains("<desc>Accesses by quarter</desc>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("<title>2024-Q1: 4</title>"));
        assert!(svg.contains("<title>2024-Q3: 10</title>"));
        assert!(svg.contains(">2024-Q2</text>"), "every period is labelled");
        assert!(svg.contains(">Period</text>") && svg.contains(">accesses</text>"));
        assert!(!svg.contains("class=\"target\""));
    }

    #[test]
    fn the_target_is_a_line_at_its_height() {
        let svg = chart(&[Some("4")], Some("8"));
        // The axis runs from 0 to 10: the target is 80% up the plot.
        let y = coordinate(y_of(d("8"), d("0"), d("10")));
        assert!(
            svg.contains(&format!(
                "class=\"target\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"",
                coordinate(LEFT),
                coordinate(WIDTH - RIGHT)
            )),
            "{svg}"
        );
        assert!(svg.contains("<title>target 8</title>"));
    }

    #[test]
    fn wide_value_labels_move_the_plot_right_of_the_axis_label() {
        assert_eq!(left_margin(&["0".into(), "10".into()]), LEFT);
        let wide = ["0 €".to_owned(), "1.000.000 €".to_owned()];
        let left = left_margin(&wide);
        // The label ends 6 units left of the plot and starts right of the axis label's band.
        assert!(left - 6.0 - CHAR_WIDTH * 11.0 >= Y_LABEL_BAND, "{left}");
        let svg = chart(&[Some("1000000")], None);
        assert!(
            !svg.contains(&format!("x1=\"{}\"", coordinate(LEFT))),
            "the plot starts further right: {svg}"
        );
    }

    #[test]
    fn bars_stay_inside_the_plot() {
        let svg = chart(&[Some("1"), Some("999"), Some("1000")], Some("1200"));
        for rect in svg.split("<rect").skip(1) {
            let attribute = |name: &str| -> f64 {
                let start = rect.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
                let end = rect[start..].find('"').expect("closed") + start;
                rect[start..end].parse().expect("a number")
            };
            let (y, height) = (attribute("y"), attribute("height"));
            assert!(
                y >= TOP - 1e-6 && y + height <= HEIGHT - BOTTOM + 0.1,
                "{rect}"
            );
        }
    }
}
