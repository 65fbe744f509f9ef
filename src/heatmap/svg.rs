//! SVG rendering of a [`Heatmap`]: a reps by dimensions grid with a colour
//! scale and legend, sample counts in every cell and hatched insufficient
//! cells, labelled in English and Mandarin.

use std::fmt::Write;

use super::{Cell, CellStatus, Heatmap};

const MARGIN: f64 = 16.0;
const TITLE_HEIGHT: f64 = 30.0;
const HEADER_HEIGHT: f64 = 62.0;
const NAME_WIDTH: f64 = 210.0;
const CELL_WIDTH: f64 = 124.0;
const CELL_HEIGHT: f64 = 36.0;
const LEGEND_HEIGHT: f64 = 64.0;
/// Narrowest image, so that the legend fits beside few columns.
const MIN_WIDTH: f64 = 640.0;
/// Longest English header line in characters before it wraps.
const HEADER_LINE_CHARS: usize = 18;
/// Maximum rep name length in characters; longer names end in an ellipsis.
const NAME_MAX_CHARS: usize = 22;
/// Font list: Noto Sans CJK covers Latin and Han glyphs in one face.
const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Noto Sans SC', 'Noto Sans', 'DejaVu Sans', sans-serif";

/// Colour stops of the score scale: red at 0, yellow at 50, green at 100.
const SCALE: [(f64, [u8; 3]); 3] = [
    (0.0, [215, 48, 39]),
    (50.0, [254, 224, 139]),
    (100.0, [26, 152, 80]),
];
/// Fill of insufficient cells under the hatching, and in XLSX.
pub const INSUFFICIENT_RGB: [u8; 3] = [224, 224, 224];

/// Returns the fill colour of a score from 0 to 100 on the red-yellow-green
/// scale; scores outside the range take the nearest end colour.
pub fn score_rgb(score: f64) -> [u8; 3] {
    let score = score.clamp(0.0, 100.0);
    let (low, high) = if score <= SCALE[1].0 {
        (SCALE[0], SCALE[1])
    } else {
        (SCALE[1], SCALE[2])
    };
    let t = (score - low.0) / (high.0 - low.0);
    let channel = |i: usize| {
        (f64::from(low.1[i]) + t * (f64::from(high.1[i]) - f64::from(low.1[i]))).round() as u8
    };
    [channel(0), channel(1), channel(2)]
}

/// Returns the pixel size `(width, height)` of the SVG for `heatmap`.
pub fn size(heatmap: &Heatmap) -> (u32, u32) {
    let (width, height) = layout_size(heatmap);
    (width.ceil() as u32, height.ceil() as u32)
}

fn layout_size(heatmap: &Heatmap) -> (f64, f64) {
    let grid_width = NAME_WIDTH + CELL_WIDTH * heatmap.dimensions.len() as f64;
    let width = (2.0 * MARGIN + grid_width).max(MIN_WIDTH);
    let grid_height = HEADER_HEIGHT + CELL_HEIGHT * heatmap.reps.len() as f64;
    let height = 2.0 * MARGIN + TITLE_HEIGHT + grid_height + LEGEND_HEIGHT;
    (width, height)
}

/// Renders the heatmap as a standalone SVG document.
pub fn render(heatmap: &Heatmap) -> String {
    let (width, height) = layout_size(heatmap);
    let mut out = String::with_capacity(4096 + heatmap.cells.len() * 420);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}"
            height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}">"#
    );
    write_defs(&mut out);
    let _ = write!(
        out,
        r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    write_title(&mut out, heatmap);
    write_header(&mut out, heatmap);
    for (row, rep) in heatmap.reps.iter().enumerate() {
        let y = MARGIN + TITLE_HEIGHT + HEADER_HEIGHT + CELL_HEIGHT * row as f64;
        let star = if rep.top_seller { "★ " } else { "" };
        let name = format!("{star}{}", truncate(&rep.name, NAME_MAX_CHARS));
        let _ = write!(
            out,
            r##"<text x="{x}" y="{ty}" font-size="13" fill="#212121">{name}</text><text x="{x}"
                y="{ty2}" font-size="9" fill="#757575">{team}</text>"##,
            x = MARGIN,
            ty = y + 16.0,
            ty2 = y + 29.0,
            name = escape(&name),
            team = escape(&truncate(&rep.team, NAME_MAX_CHARS + 8)),
        );
        for (col, cell) in heatmap.row(row).iter().enumerate() {
            write_cell(
                &mut out,
                cell,
                MARGIN + NAME_WIDTH + CELL_WIDTH * col as f64,
                y,
                heatmap.min_samples,
            );
        }
    }
    write_legend(&mut out, heatmap, height - MARGIN - LEGEND_HEIGHT + 14.0);
    out.push_str("</svg>");
    out
}

fn write_defs(out: &mut String) {
    let [r, g, b] = INSUFFICIENT_RGB;
    let _ = write!(
        out,
        r##"<defs><pattern id="insufficient" width="8"
            height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="8" height="8" fill="rgb({r},{g},{b})"/>
            <line x1="0" y1="0" x2="0" y2="8" stroke="#9e9e9e" stroke-width="3"/></pattern>
            <linearGradient id="scale" x1="0" y1="0" x2="1" y2="0">"##
    );
    for (score, _) in SCALE {
        let [r, g, b] = score_rgb(score);
        let _ = write!(
            out,
            r#"<stop offset="{score}%" stop-color="rgb({r},{g},{b})"/>"#
        );
    }
    out.push_str("</linearGradient></defs>");
}

fn write_title(out: &mut String, heatmap: &Heatmap) {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC[offset_hour sign:mandatory]:[offset_minute]"
    );
    let start = heatmap.window.start.format(&format).unwrap_or_default();
    let end = heatmap.window.end.format(&format).unwrap_or_default();
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="{y}" font-size="16" font-weight="bold"
            fill="#212121">Skill-gap heatmap 技能差距热力图</text><text x="{x}" y="{y}" font-size="11"
            fill="#616161">{start} – {end}, end excluded</text>"##,
        y = MARGIN + 18.0,
        x = MARGIN + 300.0,
    );
}

fn write_header(out: &mut String, heatmap: &Heatmap) {
    let top = MARGIN + TITLE_HEIGHT;
    for (col, spec) in heatmap.dimensions.iter().enumerate() {
        let x = MARGIN + NAME_WIDTH + CELL_WIDTH * (col as f64 + 0.5);
        let lines = wrap_words(&spec.label_en, HEADER_LINE_CHARS);
        for (i, line) in lines.iter().enumerate().take(2) {
            let y = top + 14.0 + 14.0 * i as f64;
            let _ = write!(
                out,
                r##"<text x="{x}" y="{y}" font-size="11" text-anchor="middle"
                    fill="#212121">{}</text>"##,
                escape(line)
            );
        }
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" font-size="12" text-anchor="middle"
                fill="#424242">{}</text>"##,
            escape(&spec.label_zh),
            y = top + 50.0,
        );
    }
}

fn write_cell(out: &mut String, cell: &Cell, x: f64, y: f64, min_samples: usize) {
    let (w, h) = (CELL_WIDTH - 2.0, CELL_HEIGHT - 2.0);
    let cx = x + CELL_WIDTH / 2.0;
    match (cell.status, cell.score) {
        (CellStatus::Measured, Some(score)) => {
            let [r, g, b] = score_rgb(score);
            let ink = if !(15.0..=85.0).contains(&score) {
                "#ffffff"
            } else {
                "#212121"
            };
            let gap = cell
                .gap
                .map(|g| format!(" · gap {g:+.0}"))
                .unwrap_or_default();
            let _ = write!(
                out,
                r#"<rect x="{x1}" y="{y1}" width="{w}" height="{h}" fill="rgb({r},{g},{b})"/>
                    <text x="{cx}" y="{ty}" font-size="14" font-weight="bold"
                    text-anchor="middle" fill="{ink}">{score:.0}</text><text x="{cx}" y="{ty2}"
                    font-size="9" text-anchor="middle" fill="{ink}">n={n}{gap}</text>"#,
                x1 = x + 1.0,
                y1 = y + 1.0,
                ty = y + 17.0,
                ty2 = y + 30.0,
                n = cell.samples,
            );
        }
        _ => {
            let _ = write!(
                out,
                r##"<rect x="{x1}" y="{y1}" width="{w}" height="{h}" fill="url(#insufficient)"/>
                    <text x="{cx}" y="{ty}" font-size="10" text-anchor="middle"
                    fill="#424242">n={n} &lt; {min_samples}</text><text x="{cx}" y="{ty2}"
                    font-size="9" text-anchor="middle"
                    fill="#424242">insufficient 样本不足</text>"##,
                x1 = x + 1.0,
                y1 = y + 1.0,
                ty = y + 16.0,
                ty2 = y + 29.0,
                n = cell.samples,
            );
        }
    }
}

fn write_legend(out: &mut String, heatmap: &Heatmap, top: f64) {
    let bar_width = 260.0;
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="{y}" font-size="11" fill="#212121">Score 分数</text>
            <rect x="{bx}" y="{by}" width="{bar_width}" height="12" fill="url(#scale)"
            stroke="#9e9e9e" stroke-width="0.5"/>"##,
        y = top + 10.0,
        bx = MARGIN + 70.0,
        by = top,
    );
    for tick in [0, 25, 50, 75, 100] {
        let x = MARGIN + 70.0 + bar_width * f64::from(tick) / 100.0;
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" font-size="9" text-anchor="middle"
                fill="#424242">{tick}</text>"##,
            y = top + 24.0
        );
    }
    let swatch_x = MARGIN + 360.0;
    let _ = write!(
        out,
        r##"<rect x="{swatch_x}" y="{top}" width="24" height="12" fill="url(#insufficient)"/>
            <text x="{tx}" y="{ty}" font-size="11"
            fill="#212121">fewer than {n} samples 样本不足 {n} 个</text><text x="{MARGIN}" y="{ty2}"
            font-size="9" fill="#757575">n = samples 样本数 · gap = top-seller baseline − score
            与顶尖销售的差距 · ★ top seller 顶尖销售</text>"##,
        tx = swatch_x + 30.0,
        ty = top + 10.0,
        ty2 = top + 42.0,
        n = heatmap.min_samples,
    );
}

/// Escapes the five XML special characters and drops control characters
/// that XML 1.0 does not allow.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

fn wrap_words(text: &str, max_chars: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= max_chars => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(escape("王\u{0}伟"), "王伟");
    }

    #[test]
    fn scale_ends_are_red_and_green() {
        assert_eq!(score_rgb(0.0), [215, 48, 39]);
        assert_eq!(score_rgb(100.0), [26, 152, 80]);
        assert_eq!(score_rgb(50.0), [254, 224, 139]);
    }

    #[test]
    fn long_header_wraps_at_words() {
        let lines = wrap_words("Multi-stakeholder navigation", HEADER_LINE_CHARS);

        assert_eq!(lines, ["Multi-stakeholder", "navigation"]);
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("欧阳娜娜", 3), "欧阳…");
        assert_eq!(truncate("Li", 3), "Li");
    }
}
