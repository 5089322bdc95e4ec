//! The QR code of a one-time link, as a small self-contained SVG: one path of unit squares on
//! a white field with the four-module quiet zone, scaled by the browser (crisp at any size,
//! printable, no script, allowed by the CSP).

use qrcode::{Color, EcLevel, QrCode};

/// Width of the quiet zone in modules (ISO/IEC 18004 asks for 4).
pub const QUIET: usize = 4;

#[derive(Debug, thiserror::Error)]
#[error("the link is too long for a QR code: {0}")]
pub struct QrError(String);

/// The modules of `text` (row-major, `true` = dark) and the side length.
pub fn modules(text: &str) -> Result<(Vec<bool>, usize), QrError> {
    // Medium error correction: robust against a glare spot on a screen, still small.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((dark, width))
}

/// An SVG of the QR code of `text`, labelled for screen readers with `label`.
pub fn svg(text: &str, label: &str) -> Result<String, QrError> {
    let (dark, width) = modules(text)?;
    let side = width + 2 * QUIET;
    let mut path = String::with_capacity(dark.len() * 6);
    for (i, d) in dark.iter().enumerate() {
        if *d {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    let label: String = label
        .chars()
        .map(|c| match c {
            '<' | '>' | '&' | '"' => ' ',
            c => c,
        })
        .collect();
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" role="img" aria-label="{label}"><rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
    ))
}

/// Reads the dark modules back out of an SVG made by [`svg`], as a grey image scaled by
/// `scale` pixels per module — for tests that decode the QR code independently.
pub fn rasterize(svg: &str, scale: usize) -> Option<(usize, Vec<u8>)> {
    let side: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let d = svg.split(" d=\"").nth(1)?.split('"').next()?;
    let px = side * scale;
    let mut img = vec![255u8; px * px];
    for cmd in d.split('M').filter(|c| !c.is_empty()) {
        let xy = cmd.strip_suffix("h1v1h-1z")?;
        let (x, y) = xy.split_once(' ')?;
        let (x, y): (usize, usize) = (x.parse().ok()?, y.parse().ok()?);
        for dy in 0..scale {
            for dx in 0..scale {
                img[(y * scale + dy) * px + x * scale + dx] = 0;
            }
        }
    }
    Some((px, img))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(svg: &str) -> String {
        let (px, img) = rasterize(svg, 4).unwrap();
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| img[y * px + x]);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_meta, content) = grids[0].decode().unwrap();
        content
    }

    #[test]
    fn the_svg_decodes_back_to_the_link() {
        let url = "https://portal.example.com/pickup/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let svg = svg(url, "QR code").unwrap();
        assert_eq!(decode(&svg), url);
    }

    #[test]
    fn the_label_cannot_break_out_of_the_attribute() {
        let svg = svg("x", "a\"><script>").unwrap();
        assert!(!svg.contains("<script"));
    }
}
