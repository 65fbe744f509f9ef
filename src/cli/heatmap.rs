//! `callcoach heatmap`: renders a team's skill heatmap from the store as
//! JSON, SVG, PNG or XLSX.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::drill::block_on;
use crate::heatmap::{self, team::build_team_heatmap, Heatmap};
use crate::store::TeamId;

/// Longest accepted window, in days, as in the HTTP service.
const MAX_WINDOW_DAYS: u32 = 366;

/// File format of the heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum HeatmapFormat {
    /// The heatmap as a JSON object.
    Json,
    /// A vector image.
    Svg,
    /// A raster image.
    Png,
    /// An Excel workbook.
    Xlsx,
}

/// Arguments of `callcoach heatmap`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Team id.
    #[arg(long)]
    team: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HeatmapFormat::Json)]
    format: HeatmapFormat,
    /// Output file; `-` writes JSON to stdout.
    #[arg(long)]
    out: PathBuf,
    /// Days of samples before now, 1 to 366.
    #[arg(long, default_value_t = 30)]
    window_days: u32,
    /// Dimension list of the columns.
    #[arg(long, default_value = "config/dimensions.toml")]
    dimensions: PathBuf,
    /// Data directory.
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

/// Runs `callcoach heatmap`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let team =
        TeamId::parse(&args.team).with_context(|| format!("invalid --team {:?}", args.team))?;
    let to_stdout = args.out.as_os_str() == "-";
    if to_stdout && args.format != HeatmapFormat::Json {
        anyhow::bail!("--out - writes JSON only: pass --format json or name an output file");
    }
    if args.window_days == 0 || args.window_days > MAX_WINDOW_DAYS {
        anyhow::bail!(
            "invalid --window-days {}: expected 1 to {MAX_WINDOW_DAYS}",
            args.window_days
        );
    }

    let heatmap = block_on(&args.data, |store| async move {
        let now = crate::store::now();
        let map =
            build_team_heatmap(&store, &team, args.window_days, &args.dimensions, now).await?;
        Ok(map)
    })?;

    let bytes = render(&heatmap, args.format)?;
    if to_stdout {
        outln!("{}", String::from_utf8_lossy(&bytes));
        return Ok(());
    }
    write_report(&args.out, &bytes)?;
    outln!("{}", args.out.display());
    Ok(())
}

fn render(heatmap: &Heatmap, format: HeatmapFormat) -> anyhow::Result<Vec<u8>> {
    let bytes = match format {
        HeatmapFormat::Json => serde_json::to_vec_pretty(heatmap)?,
        HeatmapFormat::Svg => heatmap::svg::render(heatmap).into_bytes(),
        HeatmapFormat::Png => heatmap::png::PngRenderer::new()
            .render(heatmap)
            .context("render the PNG")?,
        HeatmapFormat::Xlsx => heatmap::xlsx::render(heatmap).context("build the workbook")?,
    };
    Ok(bytes)
}

fn write_report(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "--out {} is a directory: name a file inside it",
            path.display()
        );
    }
    heatmap::write_atomically(path, bytes)?;
    Ok(())
}
