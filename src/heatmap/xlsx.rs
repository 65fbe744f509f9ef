//! XLSX export of a [`Heatmap`]: a grid sheet with a conditional colour
//! scale and sample counts, and a sheet with one raw row per cell.

use std::path::Path;

use rust_xlsxwriter::{
    Color, ConditionalFormat3ColorScale, ConditionalFormatType, Format, FormatAlign, Workbook,
    Worksheet, XlsxError,
};

use super::svg::{score_rgb, INSUFFICIENT_RGB};
use super::{write_atomically, CellStatus, Heatmap, Result};

/// Name of the grid sheet (`xl/worksheets/sheet1.xml`).
pub const GRID_SHEET: &str = "Heatmap";
/// Name of the raw cell sheet (`xl/worksheets/sheet2.xml`).
pub const CELLS_SHEET: &str = "Cells";
/// First grid row with rep data, below three header rows.
const FIRST_DATA_ROW: u32 = 3;

/// Builds the workbook and returns the XLSX bytes.
pub fn render(heatmap: &Heatmap) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    write_grid(workbook.add_worksheet(), heatmap)?;
    write_cells(workbook.add_worksheet(), heatmap)?;
    Ok(workbook.save_to_buffer()?)
}

/// Writes the workbook to `path` through a temporary file.
pub fn write(heatmap: &Heatmap, path: &Path) -> Result<()> {
    write_atomically(path, &render(heatmap)?)
}

fn rgb(channels: [u8; 3]) -> Color {
    let [r, g, b] = channels;
    Color::RGB(u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b))
}

fn write_grid(sheet: &mut Worksheet, heatmap: &Heatmap) -> Result<(), XlsxError> {
    let header = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let score_format = Format::new()
        .set_num_format("0.0")
        .set_align(FormatAlign::Center);
    let count_format = Format::new()
        .set_align(FormatAlign::Center)
        .set_font_color(Color::Gray);
    let insufficient = Format::new()
        .set_background_color(rgb(INSUFFICIENT_RGB))
        .set_font_color(Color::Gray)
        .set_align(FormatAlign::Center);

    sheet.set_name(GRID_SHEET)?;
    sheet.write_string_with_format(2, 0, "Rep 销售", &header)?;
    sheet.write_string_with_format(2, 1, "Team 团队", &header)?;
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 14)?;
    for (col, spec) in heatmap.dimensions.iter().enumerate() {
        let first = 2 + 2 * col as u16;
        sheet.merge_range(0, first, 0, first + 1, &spec.label_en, &header)?;
        sheet.merge_range(1, first, 1, first + 1, &spec.label_zh, &header)?;
        sheet.write_string_with_format(2, first, "score 分数", &header)?;
        sheet.write_string_with_format(2, first + 1, "n 样本", &header)?;
        sheet.set_column_width(first, 14)?;
        sheet.set_column_width(first + 1, 7)?;
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 2)?;

    for (row_index, rep) in heatmap.reps.iter().enumerate() {
        let row = FIRST_DATA_ROW + row_index as u32;
        let name = if rep.top_seller {
            format!("★ {}", rep.name)
        } else {
            rep.name.clone()
        };
        sheet.write_string(row, 0, &name)?;
        sheet.write_string(row, 1, &rep.team)?;
        for (col, cell) in heatmap.row(row_index).iter().enumerate() {
            let first = 2 + 2 * col as u16;
            match (cell.status, cell.score) {
                (CellStatus::Measured, Some(score)) => {
                    sheet.write_number_with_format(row, first, score, &score_format)?
                }
                _ => sheet.write_string_with_format(row, first, "insufficient", &insufficient)?,
            };
            sheet.write_number_with_format(row, first + 1, cell.samples as f64, &count_format)?;
        }
    }
    add_colour_scale(sheet, heatmap)
}

fn add_colour_scale(sheet: &mut Worksheet, heatmap: &Heatmap) -> Result<(), XlsxError> {
    if heatmap.reps.is_empty() {
        return Ok(());
    }
    let scale = ConditionalFormat3ColorScale::new()
        .set_minimum(ConditionalFormatType::Number, 0)
        .set_midpoint(ConditionalFormatType::Number, 50)
        .set_maximum(ConditionalFormatType::Number, 100)
        .set_minimum_color(rgb(score_rgb(0.0)))
        .set_midpoint_color(rgb(score_rgb(50.0)))
        .set_maximum_color(rgb(score_rgb(100.0)));
    let last_row = FIRST_DATA_ROW + heatmap.reps.len() as u32 - 1;
    for col in 0..heatmap.dimensions.len() {
        let first = 2 + 2 * col as u16;
        sheet.add_conditional_format(FIRST_DATA_ROW, first, last_row, first, &scale)?;
    }
    Ok(())
}

const CELL_COLUMNS: [&str; 14] = [
    "rep_id",
    "rep_name",
    "team",
    "top_seller",
    "dimension",
    "label_en",
    "label_zh",
    "status",
    "score",
    "samples",
    "call_samples",
    "team_median",
    "baseline",
    "gap",
];

fn write_cells(sheet: &mut Worksheet, heatmap: &Heatmap) -> Result<(), XlsxError> {
    let header = Format::new().set_bold();
    sheet.set_name(CELLS_SHEET)?;
    for (col, title) in CELL_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let width = heatmap.dimensions.len();
    for (index, cell) in heatmap.cells.iter().enumerate() {
        let row = 1 + index as u32;
        let rep = &heatmap.reps[index / width];
        let spec = &heatmap.dimensions[index % width];
        let status = match cell.status {
            CellStatus::Measured => "measured",
            CellStatus::Insufficient => "insufficient",
        };
        let texts = [&rep.id, &rep.name, &rep.team];
        for (col, text) in texts.into_iter().enumerate() {
            sheet.write_string(row, col as u16, text)?;
        }
        sheet.write_boolean(row, 3, rep.top_seller)?;
        for (col, text) in [&spec.id, &spec.label_en, &spec.label_zh]
            .into_iter()
            .enumerate()
        {
            sheet.write_string(row, 4 + col as u16, text)?;
        }
        sheet.write_string(row, 7, status)?;
        let numbers = [
            cell.score,
            Some(cell.samples as f64),
            Some(cell.call_samples as f64),
        ];
        let numbers = numbers
            .into_iter()
            .chain([cell.team_median, cell.baseline, cell.gap]);
        for (col, value) in numbers.enumerate() {
            if let Some(value) = value {
                sheet.write_number(row, 8 + col as u16, value)?;
            }
        }
    }
    Ok(())
}
