//! `curves.png`: mean ± one standard deviation of the return against
//! environment steps, one band per algorithm.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// One algorithm's curve: grid steps with mean and standard deviation over
/// seeds (`None` where no seed has finished an episode yet), the mean and
/// standard deviation of its final policies' evaluations, drawn
/// as a marker with an error bar at the last step, and its evaluations during
/// training (step, mean, standard deviation over seeds), drawn dashed with
/// error bars.
pub struct Band {
    pub label: String,
    pub points: Vec<(f64, Option<(f64, f64)>)>,
    pub final_evaluation: Option<(f64, f64)>,
    pub evaluations: Vec<(f64, f64, f64)>,
    /// What the evaluations are, after the label in the legend
    /// ([`DURING_TRAINING`]); `None` where the label says it itself (the
    /// scores of `natgrad statistics --plot`, which may be anything).
    pub evaluations_are: Option<&'static str>,
}

/// The legend's name for evaluations during training.
pub const DURING_TRAINING: &str = "evaluation during training";

/// Matplotlib's "tab10" cycle, so that up to ten curves stay apart.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn register_bundled_font() {
    static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
    // Registering twice is harmless; failing leaves text undrawn, not a crash.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
}

/// The series labels in a framed, nearly opaque box.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", font_size))
        .draw()
}

/// What a chart's x axis counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XAxis {
    Steps,
    Seconds,
}

/// The y axis of the training curves compare draws.
pub const TRAINING_RETURN: &str = "episodic return (mean of the last 20 episodes)";

pub fn draw(
    path: &Path,
    title: &str,
    y_label: &str,
    bands: &[Band],
    threshold: Option<f64>,
    x_axis: XAxis,
) -> Result<()> {
    register_bundled_font();
    let (lo, hi) = value_range(bands, threshold);
    let margin = 0.05 * (hi - lo);
    let max_step = last_step(bands);

    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| anyhow!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_step, (lo - margin)..(hi + margin))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(match x_axis {
            XAxis::Steps => "environment steps",
            XAxis::Seconds => "wall time (s)",
        })
        .y_desc(y_label)
        .x_label_formatter(&|x| match x_axis {
            XAxis::Steps => format!("{}k", (x / 1000.0).round()),
            XAxis::Seconds if max_step < 20.0 => format!("{x:.1}"),
            XAxis::Seconds => format!("{x:.0}"),
        })
        .y_label_formatter(&|y| format!("{y:.*}", label_decimals(hi - lo)))
        .light_line_style(RGBColor(242, 242, 242))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    if let Some(t) = threshold {
        chart
            .draw_series(LineSeries::new([(0.0, t), (max_step, t)], BLACK.mix(0.4).stroke_width(1)))
            .map_err(err)?
            .label(format!("reward threshold {t}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    }
    for (band, color) in bands.iter().zip(COLORS.iter().cycle()) {
        draw_training_band(&mut chart, band, *color).map_err(err)?;
        if !band.evaluations.is_empty() {
            let label = match band.evaluations_are {
                Some(what) => format!("{}: {what}", band.label),
                None => band.label.clone(),
            };
            draw_evaluations(&mut chart, &label, &band.evaluations, *color).map_err(err)?;
        }
        if let Some(evaluation) = band.final_evaluation {
            draw_final_evaluation(&mut chart, &band.label, max_step, evaluation, *color).map_err(err)?;
        }
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight, 15).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// The lowest and highest values the chart shows (each mean ± one standard
/// deviation, and the threshold), at least 1 apart.
fn value_range(bands: &[Band], threshold: Option<f64>) -> (f64, f64) {
    let values: Vec<f64> = bands
        .iter()
        .flat_map(|b| {
            let during = b.evaluations.iter().map(|(_, m, s)| (*m, *s));
            b.points.iter().filter_map(|(_, v)| *v).chain(b.final_evaluation).chain(during).map(|(m, s)| [m - s, m + s])
        })
        .flatten()
        .chain(threshold)
        .collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    if lo.is_finite() { (lo, hi.max(lo + 1.0)) } else { (0.0, 1.0) }
}

/// Decimals that tell the y axis' labels apart: plotters puts about ten
/// labels on the axis, so they stand about a tenth of its span apart (none
/// for a span of 10 or more, one below 10, two below 1). Whole numbers alone
/// printed 0.5, 1.0, ..., 2.5 as 0, 1, 2, 2, 2 on a Breakout curve.
fn label_decimals(span: f64) -> usize {
    if span.is_finite() && span > 0.0 { (-(span / 10.0).log10()).ceil().clamp(0.0, 6.0) as usize } else { 0 }
}

/// The last step (or second) any curve reaches, at least 1.
fn last_step(bands: &[Band]) -> f64 {
    bands
        .iter()
        .flat_map(|b| b.points.last().map(|p| p.0).into_iter().chain(b.evaluations.last().map(|e| e.0)))
        .fold(1.0, f64::max)
}

/// The chart's coordinates: steps (or seconds) against return.
type Chart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// The training curve: the mean where some seed has finished an episode,
/// in a band of ± one standard deviation.
fn draw_training_band<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    band: &Band,
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let known: Vec<(f64, f64, f64)> = band.points.iter().filter_map(|(x, v)| v.map(|(m, s)| (*x, m, s))).collect();
    if known.is_empty() {
        return Ok(());
    }
    let upper = known.iter().map(|(x, m, s)| (*x, m + s));
    let lower = known.iter().rev().map(|(x, m, s)| (*x, m - s));
    chart.draw_series([Polygon::new(upper.chain(lower).collect::<Vec<_>>(), color.mix(0.2).filled())])?;
    chart
        .draw_series(LineSeries::new(known.iter().map(|(x, m, _)| (*x, *m)), color.stroke_width(2)))?
        .label(&band.label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    Ok(())
}

/// The final policies' evaluation: a marker at the last step with its ±
/// one standard deviation bar.
fn draw_final_evaluation<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    label: &str,
    max_step: f64,
    (m, s): (f64, f64),
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart.draw_series([PathElement::new([(max_step, m - s), (max_step, m + s)], color.stroke_width(3))])?;
    chart
        .draw_series([TriangleMarker::new((max_step, m), 7, color.filled())])?
        .label(format!("{label}: final evaluation"))
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, color.filled()));
    Ok(())
}

/// Evaluations during training (or any scores against steps): a dashed line
/// through the means, each with its ± one standard deviation bar.
fn draw_evaluations<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    label: &str,
    evaluations: &[(f64, f64, f64)],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let bars = evaluations.iter().map(|(x, m, s)| PathElement::new([(*x, m - s), (*x, m + s)], color.stroke_width(1)));
    chart.draw_series(bars)?;
    let means = evaluations.iter().map(|(x, m, _)| (*x, *m));
    chart
        .draw_series(DashedLineSeries::new(means.clone(), 6, 4, color.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 8, y)], color.stroke_width(2)));
    chart.draw_series(means.map(|p| Circle::new(p, 3, color.filled())))?;
    Ok(())
}

/// One line of a log-scale panel.
pub struct Curve {
    pub label: String,
    /// (x, y) with y > 0.
    pub points: Vec<(f64, f64)>,
}

/// One chart of [`draw_log_panels`].
pub struct Panel {
    pub title: String,
    pub x_max: f64,
    pub curves: Vec<Curve>,
}

/// Panels side by side, each with a logarithmic y axis: the natural-gradient
/// demo's objective gap against iteration.
pub fn draw_log_panels(path: &Path, title: &str, panels: &[Panel]) -> Result<()> {
    register_bundled_font();
    let ys = panels.iter().flat_map(|p| p.curves.iter().flat_map(|c| c.points.iter().map(|p| p.1)));
    let (lo, hi) =
        ys.filter(|y| *y > 0.0 && y.is_finite()).fold((f64::INFINITY, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    // Headroom above the curves for the legend.
    let (lo, hi) = if lo.is_finite() { (lo / 2.0, hi.max(lo * 10.0) * 1e4) } else { (1e-16, 1.0) };

    let root = BitMapBackend::new(path, (560 * panels.len().max(1) as u32, 520)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| anyhow!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 24)).map_err(err)?;
    for (area, panel) in root.split_evenly((1, panels.len().max(1))).iter().zip(panels) {
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..panel.x_max.max(1.0), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("objective - optimum")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .light_line_style(RGBColor(242, 242, 242))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (curve, color) in panel.curves.iter().zip(COLORS.iter().cycle()) {
            chart
                .draw_series(LineSeries::new(curve.points.iter().copied(), color.stroke_width(2)))
                .map_err(err)?
                .label(&curve.label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_labels_take_as_many_decimals_as_their_spacing_needs() {
        // Labels about a tenth of the span apart: 500-point CartPole axes need
        // none, a Breakout axis from 0.5 to 3 needs one, a loss near 0.05 two.
        assert_eq!(label_decimals(500.0), 0);
        assert_eq!(label_decimals(10.0), 0);
        assert_eq!(label_decimals(2.7), 1);
        assert_eq!(label_decimals(1.0), 1);
        assert_eq!(label_decimals(0.5), 2);
        assert_eq!(format!("{:.*}", label_decimals(2.7), 2.5), "2.5");
        // A zero or undefined span draws whole numbers; a tiny one takes at most six decimals.
        assert_eq!(label_decimals(0.0), 0);
        assert_eq!(label_decimals(f64::NAN), 0);
        assert_eq!(label_decimals(1e-12), 6);
    }
}
