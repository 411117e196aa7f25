//! One SVG per element-wise protocol and layer: the ideal function and the float approximation
//! over the recorded input histogram (upper panel), and the secure output's error against the
//! ideal (lower panel). Drawn with `plotters`' SVG backend, whose text layout is estimated (no
//! font files are read).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::audit::PlotData;

const SIZE: (u32, u32) = (900, 560);
const HISTOGRAM: RGBColor = RGBColor(0xdd, 0xe6, 0xf0);
const APPROXIMATION: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const ERROR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);

/// The smallest and largest finite values, or (−1, 1) when there are none; never a zero span.
fn range<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if lo > hi {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// The finite points of a curve.
fn points<'a>(xs: &'a [f64], ys: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    xs.iter().zip(ys).filter(|(_, y)| y.is_finite()).map(|(&x, &y)| (x, y))
}

fn failed(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("drawing the plot: {e}"))
}

/// The SVG text of one plot.
pub fn svg(d: &PlotData) -> std::io::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let root = root.titled(&format!("{} — layer {}", d.protocol, d.layer), ("sans-serif", 18)).map_err(failed)?;
        let (upper, lower) = root.split_vertically(SIZE.1 * 3 / 5);
        let (xmin, xmax) = range(d.x.iter());
        let (fmin, fmax) = range(d.ideal.iter().chain(&d.approximation));

        let mut chart = ChartBuilder::on(&upper)
            .margin(10)
            .x_label_area_size(25)
            .y_label_area_size(60)
            .build_cartesian_2d(xmin..xmax, fmin..fmax)
            .map_err(failed)?;
        chart.configure_mesh().light_line_style(WHITE).y_desc("f(x)").draw().map_err(failed)?;
        let wmax = d.weight.iter().fold(1e-12f64, |m, &w| m.max(w));
        let bar = (xmax - xmin) / d.x.len().max(1) as f64 / 2.0;
        chart
            .draw_series(d.x.iter().zip(&d.weight).map(|(&x, &w)| {
                Rectangle::new([(x - bar, fmin), (x + bar, fmin + w / wmax * (fmax - fmin))], HISTOGRAM.filled())
            }))
            .map_err(failed)?
            .label("recorded inputs (histogram)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], HISTOGRAM.filled()));
        chart
            .draw_series(LineSeries::new(points(&d.x, &d.ideal), BLACK.stroke_width(2)))
            .map_err(failed)?
            .label("ideal")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK));
        chart
            .draw_series(LineSeries::new(points(&d.x, &d.approximation), APPROXIMATION.stroke_width(2)))
            .map_err(failed)?
            .label("approximation (float)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], APPROXIMATION));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(failed)?;

        let err: Vec<f64> = d.secure.iter().zip(&d.ideal).map(|(s, i)| s - i).collect();
        let emax = err.iter().filter(|v| v.is_finite()).fold(1e-12f64, |m, e| m.max(e.abs())) * 1.1;
        let mut chart = ChartBuilder::on(&lower)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(xmin..xmax, -emax..emax)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("x")
            .y_desc("secure − ideal")
            .y_label_formatter(&|v| if v.abs() < emax * 1e-6 { "0".into() } else { format!("{v:.1e}") })
            .draw()
            .map_err(failed)?;
        chart.draw_series(LineSeries::new(points(&d.x, &err), ERROR.stroke_width(2))).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(out)
}

/// A protocol name as a file name inside the plot directory: every character other than a
/// letter, digit, `-`, `_` or `.` becomes `_`, and a leading `.` too, so no name leaves the directory.
fn file_stem(protocol: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut s: String = protocol.chars().map(|c| if plain(c) { c } else { '_' }).collect();
    if s.starts_with('.') {
        s.replace_range(..1, "_");
    }
    s
}

/// Writes every plot to `dir` as `PROTOCOL.layerN.svg` (the name made a plain file name);
/// returns the paths.
pub fn write_all(dir: &Path, plots: &[PlotData]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    plots
        .iter()
        .map(|d| {
            let path = dir.join(format!("{}.layer{}.svg", file_stem(&d.protocol), d.layer));
            std::fs::write(&path, svg(d)?)?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(secure_offset: f64) -> PlotData {
        let x: Vec<f64> = (0..50).map(|i| -4.0 + 0.16 * f64::from(i)).collect();
        let ideal: Vec<f64> = x.iter().map(|&v| v.max(0.0)).collect();
        PlotData {
            protocol: "test.relu".into(),
            layer: 3,
            weight: x.iter().map(|v| (-v * v).exp()).collect(),
            approximation: ideal.clone(),
            secure: ideal.iter().map(|v| v + secure_offset).collect(),
            ideal,
            x,
        }
    }

    #[test]
    fn a_plot_is_an_svg_with_its_title_curves_and_legend() {
        let s = svg(&data(1e-3)).unwrap_or_default();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"), "{}", &s[..s.len().min(200)]);
        for text in ["test.relu — layer 3", "ideal", "approximation (float)", "secure − ideal"] {
            assert!(s.contains(text), "missing {text:?}");
        }
        assert!(s.matches("<polyline").count() >= 3, "three curves: ideal, approximation, error");
    }

    #[test]
    fn names_never_leave_the_plot_directory() {
        assert_eq!(file_stem("coeffs./../../escaped"), "coeffs._.._.._escaped");
        assert_eq!(file_stem("../x"), "_._x");
        assert_eq!(file_stem("nimbus.gelu"), "nimbus.gelu");
        let dir = std::env::temp_dir().join(format!("dyad-plot-test-{}", std::process::id()));
        let mut d = data(0.0);
        d.protocol = "/../../escaped".into();
        let paths = write_all(&dir, &[d]).unwrap_or_default();
        assert!(paths.len() == 1 && paths[0].parent() == Some(dir.as_path()), "{paths:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn non_finite_values_and_flat_curves_still_draw() {
        let mut d = data(0.0);
        d.secure[7] = f64::NAN;
        d.ideal = vec![0.0; d.x.len()];
        d.approximation = vec![f64::INFINITY; d.x.len()];
        assert!(svg(&d).is_ok());
    }
}
