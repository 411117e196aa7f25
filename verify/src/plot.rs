//! One SVG per element-wise protocol and layer: the ideal function, the float approximation and
//! the secure output's error, drawn over the recorded input histogram. Hand-written SVG: no
//! plotting dependency.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::audit::PlotData;

const W: f64 = 900.0;
const H: f64 = 560.0;
const PAD: f64 = 60.0;

fn polyline(xs: &[f64], ys: &[f64], x_of: &dyn Fn(f64) -> f64, y_of: &dyn Fn(f64) -> f64, colour: &str) -> String {
    let pts: Vec<String> = xs
        .iter()
        .zip(ys)
        .filter(|(_, y)| y.is_finite())
        .map(|(x, y)| format!("{:.1},{:.1}", x_of(*x), y_of(*y)))
        .collect();
    format!("<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>\n", pts.join(" "))
}

/// The SVG text of one plot.
pub fn svg(d: &PlotData) -> String {
    let (xmin, xmax) = d.x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let span = (xmax - xmin).max(1e-9);
    let top = H / 2.0 - 10.0;
    let (fmin, fmax) = d
        .ideal
        .iter()
        .chain(&d.approximation)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let fspan = (fmax - fmin).max(1e-9);
    let err: Vec<f64> = d.secure.iter().zip(&d.ideal).map(|(s, i)| s - i).collect();
    let emax = err.iter().filter(|v| v.is_finite()).fold(1e-12f64, |m, e| m.max(e.abs()));
    let wmax = d.weight.iter().fold(1e-12f64, |m, &w| m.max(w));
    let x_of = |x: f64| PAD + (x - xmin) / span * (W - 2.0 * PAD);
    let f_of = |y: f64| PAD + (1.0 - (y - fmin) / fspan) * (top - PAD);
    let e_mid = top + (H - PAD - top) / 2.0;
    let e_of = |y: f64| e_mid - y / emax * ((H - PAD - top) / 2.0 - 10.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(s, "<text x=\"{PAD}\" y=\"24\" font-size=\"15\">{} — layer {}</text>", d.protocol, d.layer);
    let bar = (W - 2.0 * PAD) / d.x.len().max(1) as f64;
    for (x, w) in d.x.iter().zip(&d.weight) {
        let h = w / wmax * (H - 2.0 * PAD);
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"#dde6f0\"/>",
            x_of(*x) - bar / 2.0,
            H - PAD - h,
            bar.max(0.5),
            h
        );
    }
    s.push_str(&polyline(&d.x, &d.ideal, &x_of, &f_of, "#222222"));
    s.push_str(&polyline(&d.x, &d.approximation, &x_of, &f_of, "#d62728"));
    let _ = writeln!(
        s,
        "<line x1=\"{PAD}\" x2=\"{:.1}\" y1=\"{e_mid:.1}\" y2=\"{e_mid:.1}\" stroke=\"#999\" stroke-dasharray=\"3,3\"/>",
        W - PAD
    );
    s.push_str(&polyline(&d.x, &err, &x_of, &e_of, "#1f77b4"));
    let _ = writeln!(
        s,
        "<text x=\"{PAD}\" y=\"{:.1}\">x from {xmin:.2} to {xmax:.2}; bars: recorded input histogram</text>",
        H - 20.0
    );
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"44\" fill=\"#222\">ideal</text>", W - 250.0);
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"60\" fill=\"#d62728\">approximation (float)</text>", W - 250.0);
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"76\" fill=\"#1f77b4\">secure − ideal (±{emax:.2e}, lower panel)</text>",
        W - 250.0
    );
    s.push_str("</svg>\n");
    s
}

/// Writes every plot to `dir` as `PROTOCOL.layerN.svg`; returns the paths.
pub fn write_all(dir: &Path, plots: &[PlotData]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    plots
        .iter()
        .map(|d| {
            let path = dir.join(format!("{}.layer{}.svg", d.protocol, d.layer));
            std::fs::write(&path, svg(d))?;
            Ok(path)
        })
        .collect()
}
