//! A self-contained HTML page of a monthly review, ready to print to PDF:
//! inline CSS with print rules, an inline SVG chart of the customer emotion
//! curve, and no external resources.

use std::fmt::Write;

use super::emotion::EmotionCurve;
use super::{MonthlyReview, ResponseStats, ScenarioReview};
use crate::heatmap::svg::escape;

/// Formats one statistic for a table cell.
type StatFormatter = fn(&ResponseStats) -> String;

const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 240.0;
const CHART_MARGIN: f64 = 36.0;

const STYLE: &str = "\
@page { size: A4; margin: 16mm; }
body { font-family: 'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei',
  sans-serif; color: #212121; margin: 24px; line-height: 1.45; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid #bdbdbd; }
h3 { font-size: 14px; margin: 16px 0 4px; }
.meta { color: #616161; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #bdbdbd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
ul { margin: 4px 0 8px 18px; padding: 0; font-size: 13px; }
section { break-inside: avoid; page-break-inside: avoid; }
svg text { font-size: 11px; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
";

/// Renders the review as one HTML document.
pub fn render(review: &MonthlyReview) -> String {
    let mut out = String::with_capacity(8192);
    let month = format!("{}-{:02}", review.month.year, review.month.month);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">
            <title>Monthly review {name} {month}</title><style>{STYLE}</style></head><body>",
        name = escape(&review.rep_name),
    );
    let _ = write!(
        out,
        "<h1>Monthly review 月度复盘: {name}</h1>
            <p class=\"meta\">{month} · rep id {id} · compared with top sellers 与顶尖销售对比</p>",
        name = escape(&review.rep_name),
        id = escape(&review.rep_id),
    );
    if review.scenarios.is_empty() {
        out.push_str("<p>No answers this month. 本月没有回答记录。</p>");
    }
    for scenario in &review.scenarios {
        write_scenario(&mut out, scenario);
    }
    if !review.emotions.is_empty() {
        out.push_str("<section><h2>Customer emotion 客户情绪</h2>");
        out.push_str(
            "<p class=\"meta\">Per customer turn: prosody (energy, pitch range) and \
            sentiment words, from −1 (negative) to +1 (positive). \
            每个客户话轮：语音能量、音高范围与情感词，−1 为负面，+1 为正面。</p>",
        );
        for call in &review.emotions {
            let estimated = if call.turns_estimated {
                " · turns estimated from pauses 话轮按停顿估计"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<h3>Call 通话 {id} · {at}{estimated}</h3>",
                id = escape(&call.call_id),
                at = call
                    .occurred_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            );
            out.push_str(&emotion_chart(&call.curve));
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

fn write_scenario(out: &mut String, scenario: &ScenarioReview) {
    let _ = write!(
        out,
        "<section><h2>{en} · {zh}</h2><table><tr><th>Metric 指标</th><th>You 你</th>
            <th>Top sellers 顶尖销售</th><th>1st half 上半月</th><th>2nd half 下半月</th></tr>",
        en = escape(&scenario.title_en),
        zh = escape(&scenario.title_zh),
    );
    let columns = [
        &scenario.rep,
        &scenario.top_sellers,
        &scenario.trend.first_half,
        &scenario.trend.second_half,
    ];
    let rows: [(&str, StatFormatter); 4] = [
        ("Answers 回答数", |s| s.responses.to_string()),
        ("Latency 响应延迟 (s)", |s| {
            s.mean_latency_s.map_or("–".into(), |v| format!("{v:.1}"))
        }),
        ("Coverage 覆盖率", |s| {
            s.coverage
                .map_or("–".into(), |v| format!("{:.0}%", v * 100.0))
        }),
        ("Phrases/min 每分钟话术", |s| {
            s.phrases_per_minute
                .map_or("–".into(), |v| format!("{v:.1}"))
        }),
    ];
    for (label, cell) in rows {
        let _ = write!(out, "<tr><td>{label}</td>");
        for stats in columns {
            let _ = write!(out, "<td>{}</td>", cell(stats));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><ul>");
    for line in scenario.lines_en.iter().chain(&scenario.lines_zh) {
        let _ = write!(out, "<li>{}</li>", escape(line));
    }
    out.push_str("</ul></section>");
}

/// Renders the emotion curve as an inline SVG line chart with scenario
/// markers.
pub fn emotion_chart(curve: &EmotionCurve) -> String {
    let plot_w = CHART_WIDTH - 2.0 * CHART_MARGIN;
    let plot_h = CHART_HEIGHT - 2.0 * CHART_MARGIN;
    let duration = curve.duration_ms.max(1) as f64;
    let x = |ms: f64| CHART_MARGIN + plot_w * (ms / duration).clamp(0.0, 1.0);
    let y = |value: f64| CHART_MARGIN + plot_h * (1.0 - value.clamp(-1.0, 1.0)) / 2.0;

    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}"
            height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img"
            aria-label="customer emotion curve"><rect width="100%" height="100%"
            fill="#ffffff"/>"##
    );
    for (value, label) in [(1.0, "+1"), (0.0, "0"), (-1.0, "−1")] {
        let _ = write!(
            out,
            r##"<line x1="{x1}" y1="{yy}" x2="{x2}" y2="{yy}" stroke="#bdbdbd"
                stroke-dasharray="{dash}"/><text x="{tx}" y="{ty}" text-anchor="end"
                fill="#616161">{label}</text>"##,
            x1 = CHART_MARGIN,
            x2 = CHART_MARGIN + plot_w,
            yy = y(value),
            dash = if value == 0.0 { "none" } else { "3 3" },
            tx = CHART_MARGIN - 6.0,
            ty = y(value) + 4.0,
        );
    }
    for marker in &curve.markers {
        let mx = x(marker.at_ms as f64);
        let _ = write!(
            out,
            r##"<line x1="{mx}" y1="{top}" x2="{mx}" y2="{bottom}" stroke="#8e24aa"
                stroke-dasharray="4 2"/><text x="{tx}" y="{ty}"
                fill="#8e24aa">{label}</text>"##,
            top = CHART_MARGIN,
            bottom = CHART_MARGIN + plot_h,
            tx = mx + 3.0,
            ty = CHART_MARGIN - 6.0,
            label = escape(&marker.scenario_id.replace('_', " ")),
        );
    }

    let points: Vec<(f64, f64)> = curve
        .points
        .iter()
        .map(|p| (x((p.start_ms + p.end_ms) as f64 / 2.0), y(p.value)))
        .collect();
    let path: Vec<String> = points
        .iter()
        .map(|(px, py)| format!("{px:.1},{py:.1}"))
        .collect();
    let _ = write!(
        out,
        r##"<polyline points="{}" fill="none" stroke="#1e88e5" stroke-width="2"/>"##,
        path.join(" ")
    );
    for (px, py) in &points {
        let _ = write!(
            out,
            r##"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="#1e88e5"/>"##
        );
    }
    let _ = write!(
        out,
        r##"<text x="{CHART_MARGIN}" y="{ty}" fill="#616161">0 s</text><text x="{tx}" y="{ty}"
            text-anchor="end" fill="#616161">{end:.0} s</text></svg>"##,
        ty = CHART_HEIGHT - 10.0,
        tx = CHART_MARGIN + plot_w,
        end = duration / 1000.0,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::Window;
    use crate::review::emotion::{EmotionMarker, EmotionPoint};
    use crate::review::{CallEmotion, Month, Trend};
    use time::macros::datetime;

    fn point(start_ms: u64, value: f64) -> EmotionPoint {
        EmotionPoint {
            start_ms,
            end_ms: start_ms + 1000,
            value,
            lexical: value,
            arousal: 0.0,
            energy_db: Some(0.0),
            pitch_median_hz: None,
            pitch_range_semitones: None,
            voiced_frames: 0,
            sentiment_words: Vec::new(),
        }
    }

    fn review() -> MonthlyReview {
        let stats = ResponseStats {
            responses: 2,
            mean_latency_s: Some(4.2),
            coverage: Some(0.5),
            phrases_per_minute: Some(2.0),
        };
        MonthlyReview {
            rep_id: "rep".into(),
            rep_name: "王小明 <script>".into(),
            month: Month {
                year: 2025,
                month: 3,
            },
            window: Window {
                start: datetime!(2025-03-01 00:00 UTC),
                end: datetime!(2025-04-01 00:00 UTC),
            },
            scenarios: vec![ScenarioReview {
                scenario_id: "price_objection".into(),
                title_en: "Price objection".into(),
                title_zh: "价格异议".into(),
                rep: stats,
                top_sellers: stats,
                trend: Trend {
                    first_half: stats,
                    second_half: stats,
                    latency_s_per_week: None,
                    coverage_per_week: None,
                },
                lines_en: vec!["Price objection: your latency 4.2 s, top sellers 1.8 s".into()],
                lines_zh: vec!["价格异议：你的响应延迟 4.2 秒，顶尖销售 1.8 秒".into()],
            }],
            emotions: vec![CallEmotion {
                call_id: "call-1".into(),
                occurred_at: datetime!(2025-03-12 10:00 UTC),
                turns_estimated: true,
                curve: EmotionCurve {
                    duration_ms: 4000,
                    points: vec![point(0, 0.5), point(2000, -0.6)],
                    markers: vec![EmotionMarker {
                        at_ms: 2500,
                        scenario_id: "price_objection".into(),
                        turn_index: Some(1),
                        value: Some(-0.6),
                    }],
                },
            }],
        }
    }

    #[test]
    fn page_is_self_contained() {
        let page = render(&review());

        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("@media print"));
        assert!(!page.contains("<script"), "rep name is escaped");
        assert!(!page.contains("<link"));
        assert!(!page.contains("src="));
        assert!(!page.contains("@import"));
        assert!(!page.contains("href="));
        assert!(page.contains("价格异议：你的响应延迟 4.2 秒"));
        assert!(page.contains("Call 通话 call-1 · 2025-03-12T10:00:00Z"));
        assert!(page.contains("turns estimated from pauses"));
    }

    #[test]
    fn chart_plots_points_and_markers() {
        let chart = emotion_chart(&review().emotions[0].curve);

        assert!(
            chart.contains("<polyline points=\"117.0,78.0 441.0,170.4\""),
            "{chart}"
        );
        assert!(chart.contains(">price objection</text>"));
        assert_eq!(chart.matches("<circle").count(), 2);
    }
}
