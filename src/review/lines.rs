//! Readable review lines in English and Mandarin, such as
//! "Price objection: your latency 4.2 s, top sellers 1.8 s".

use super::{ResponseStats, ScenarioReview};

/// Latency change below which the trend line reads "stayed at about", in s.
const LATENCY_STEADY_S: f64 = 0.1;
/// Coverage change below which the trend line reads "stayed at about".
const COVERAGE_STEADY: f64 = 0.02;

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Returns the English lines of a scenario review.
pub(super) fn english(review: &ScenarioReview) -> Vec<String> {
    let title = &review.title_en;
    let (rep, top) = (&review.rep, &review.top_sellers);
    let mut lines = Vec::new();
    if let Some(latency) = rep.mean_latency_s {
        lines.push(match top.mean_latency_s {
            Some(top_latency) => {
                format!("{title}: your latency {latency:.1} s, top sellers {top_latency:.1} s")
            }
            None => {
                format!("{title}: your latency {latency:.1} s, no top-seller answers this month")
            }
        });
    }
    if let Some(coverage) = rep.coverage {
        let mut line = format!("{title}: key-phrase coverage {}", percent(coverage));
        if let Some(top_coverage) = top.coverage {
            line.push_str(&format!(", top sellers {}", percent(top_coverage)));
        }
        if let Some(density) = rep.phrases_per_minute {
            line.push_str(&format!("; {density:.1} key phrases per minute"));
            if let Some(top_density) = top.phrases_per_minute {
                line.push_str(&format!(", top sellers {top_density:.1}"));
            }
        }
        lines.push(line);
    }
    lines.extend(english_trend(
        title,
        &review.trend.first_half,
        &review.trend.second_half,
    ));
    lines
}

fn english_trend(title: &str, first: &ResponseStats, second: &ResponseStats) -> Vec<String> {
    let mut lines = Vec::new();
    let halves = "between the first and second half of the month";
    if let (Some(a), Some(b)) = (first.mean_latency_s, second.mean_latency_s) {
        lines.push(if (b - a).abs() < LATENCY_STEADY_S {
            format!("{title}: latency stayed at about {b:.1} s {halves}")
        } else {
            let verb = if b < a { "fell" } else { "rose" };
            format!("{title}: latency {verb} from {a:.1} s to {b:.1} s {halves}")
        });
    }
    if let (Some(a), Some(b)) = (first.coverage, second.coverage) {
        lines.push(if (b - a).abs() < COVERAGE_STEADY {
            format!(
                "{title}: key-phrase coverage stayed at about {} {halves}",
                percent(b)
            )
        } else {
            let verb = if b > a { "rose" } else { "fell" };
            format!(
                "{title}: key-phrase coverage {verb} from {} to {} {halves}",
                percent(a),
                percent(b)
            )
        });
    }
    lines
}

/// Returns the Mandarin lines of a scenario review.
pub(super) fn mandarin(review: &ScenarioReview) -> Vec<String> {
    let title = &review.title_zh;
    let (rep, top) = (&review.rep, &review.top_sellers);
    let mut lines = Vec::new();
    if let Some(latency) = rep.mean_latency_s {
        lines.push(match top.mean_latency_s {
            Some(top_latency) => {
                format!("{title}：你的响应延迟 {latency:.1} 秒，顶尖销售 {top_latency:.1} 秒")
            }
            None => format!("{title}：你的响应延迟 {latency:.1} 秒，本月没有顶尖销售的回答"),
        });
    }
    if let Some(coverage) = rep.coverage {
        let mut line = format!("{title}：关键话术覆盖率 {}", percent(coverage));
        if let Some(top_coverage) = top.coverage {
            line.push_str(&format!("，顶尖销售 {}", percent(top_coverage)));
        }
        if let Some(density) = rep.phrases_per_minute {
            line.push_str(&format!("；每分钟 {density:.1} 个关键话术"));
            if let Some(top_density) = top.phrases_per_minute {
                line.push_str(&format!("，顶尖销售 {top_density:.1} 个"));
            }
        }
        lines.push(line);
    }
    lines.extend(mandarin_trend(
        title,
        &review.trend.first_half,
        &review.trend.second_half,
    ));
    lines
}

fn mandarin_trend(title: &str, first: &ResponseStats, second: &ResponseStats) -> Vec<String> {
    let mut lines = Vec::new();
    if let (Some(a), Some(b)) = (first.mean_latency_s, second.mean_latency_s) {
        lines.push(if (b - a).abs() < LATENCY_STEADY_S {
            format!("{title}：响应延迟上下半月都保持在约 {b:.1} 秒")
        } else {
            let verb = if b < a { "缩短到" } else { "延长到" };
            format!("{title}：响应延迟从上半月的 {a:.1} 秒{verb}下半月的 {b:.1} 秒")
        });
    }
    if let (Some(a), Some(b)) = (first.coverage, second.coverage) {
        lines.push(if (b - a).abs() < COVERAGE_STEADY {
            format!("{title}：关键话术覆盖率上下半月都保持在约 {}", percent(b))
        } else {
            let verb = if b > a { "提高到" } else { "下降到" };
            format!(
                "{title}：关键话术覆盖率从上半月的 {}{verb}下半月的 {}",
                percent(a),
                percent(b)
            )
        });
    }
    lines
}
