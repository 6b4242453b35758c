//! The table of statistics over runs that `natgrad compare` and `natgrad
//! statistics` write and print: per point and algorithm the mean with its
//! standard error and the IQM with its 95% interval, and per pair of
//! algorithms the probability of improvement with its interval.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::plot::{self, Band, XAxis};
use crate::statistics::{self, Interval};

/// Scores by point ("final", or a step of the evaluation curve), then by
/// algorithm: one score per run.
pub type Points = Vec<(String, Vec<(String, Vec<f64>)>)>;

/// One statistic of one algorithm (against `versus`, for the probability of
/// improvement) at one point.
pub struct Statistic {
    point: String,
    name: &'static str,
    algo: String,
    versus: String,
    value: Interval,
    runs: usize,
}

/// At every point: each algorithm's mean with its standard error and its
/// IQM with a 95% interval, and each ordered pair's probability of
/// improvement with a 95% interval.
pub fn statistics_table(points: &Points) -> Vec<Statistic> {
    let mut table = vec![];
    for (point, scores) in points {
        for (algo, xs) in scores {
            let (mean, se) = statistics::mean_and_standard_error(xs);
            let stat = |name, value| Statistic {
                point: point.clone(),
                name,
                algo: algo.clone(),
                versus: String::new(),
                value,
                runs: xs.len(),
            };
            table.push(stat("mean", Interval { estimate: mean, low: mean - se, high: mean + se }));
            table.push(stat("iqm", statistics::iqm_interval(xs, 0)));
        }
        for (algo, xs) in scores {
            for (other, ys) in scores.iter().filter(|(o, _)| o != algo) {
                table.push(Statistic {
                    point: point.clone(),
                    name: "probability_of_improvement",
                    algo: algo.clone(),
                    versus: other.clone(),
                    value: statistics::improvement_interval(xs, ys, 0),
                    runs: xs.len().min(ys.len()),
                });
            }
        }
    }
    table
}

/// statistics.csv: one row per statistic, algorithm and point.
pub fn write_statistics_csv(path: &Path, table: &[Statistic]) -> Result<()> {
    let mut csv = String::from("point,statistic,algorithm,versus,estimate,low,high,runs\n");
    for s in table {
        let v = s.value;
        csv +=
            &format!("{},{},{},{},{},{},{},{}\n", s.point, s.name, s.algo, s.versus, v.estimate, v.low, v.high, s.runs);
    }
    std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))
}

/// Decimals that show scores up to `largest` in magnitude with three
/// significant digits, and at least one: returns in the hundreds print as
/// 2415.4, success rates as 0.723.
fn decimals(largest: f64) -> usize {
    if !(largest.is_finite() && largest > 0.0) {
        return 1;
    }
    (2 - largest.log10().floor() as i64).clamp(1, 6) as usize
}

/// The final evaluation's statistics (the last point's, where there is no
/// "final"), as two small tables.
pub fn print_statistics(table: &[Statistic]) {
    let shown = table.iter().find(|s| s.point == "final").or(table.last()).map_or("", |s| s.point.as_str());
    let finals: Vec<&Statistic> = table.iter().filter(|s| s.point == shown).collect();
    let of = |name: &str, algo: &str| finals.iter().find(|s| s.name == name && s.algo == algo).map(|s| s.value);
    let algos: Vec<&str> = finals.iter().filter(|s| s.name == "mean").map(|s| s.algo.as_str()).collect();
    println!(
        "statistics over runs ({shown}): mean ± standard error; interquartile mean with its 95% bootstrap interval \
         (rliable's, {} resamples)",
        statistics::BOOTSTRAP_RESAMPLES
    );
    println!("| algorithm | runs | mean ± s.e. | IQM [95% interval] |");
    println!("|---|---:|---:|---:|");
    let largest = finals.iter().filter(|s| s.name != "probability_of_improvement").map(|s| s.value.estimate.abs());
    let d = decimals(largest.fold(0.0, f64::max));
    for (algo, s) in algos.iter().zip(finals.iter().filter(|s| s.name == "mean")) {
        let (Some(mean), Some(iqm)) = (of("mean", algo), of("iqm", algo)) else { continue };
        println!(
            "| {algo} | {} | {:.d$} ± {:.d$} | {:.d$} [{:.d$}, {:.d$}] |",
            s.runs,
            mean.estimate,
            mean.high - mean.estimate,
            iqm.estimate,
            iqm.low,
            iqm.high
        );
    }
    if algos.len() > 1 {
        println!();
        println!("probability of improvement, P(row > column) [95% interval]:");
        println!("| | {} |", algos.join(" | "));
        println!("|---|{}", "---:|".repeat(algos.len()));
        for algo in &algos {
            let cells: Vec<String> = algos
                .iter()
                .map(|other| {
                    finals
                        .iter()
                        .find(|s| s.name == "probability_of_improvement" && s.algo == *algo && s.versus == *other)
                        .map_or(String::new(), |s| {
                            format!("{:.2} [{:.2}, {:.2}]", s.value.estimate, s.value.low, s.value.high)
                        })
                })
                .collect();
            println!("| {algo} | {} |", cells.join(" | "));
        }
    }
    println!();
}

/// Draws each algorithm's scores against the numeric points (steps) as a
/// dashed line of means with ± one standard error, and the "final" point's
/// mean ± standard error at the right edge.
pub fn draw_curves(path: &Path, title: &str, points: &Points) -> Result<()> {
    let mut algos: Vec<&str> = vec![];
    for (_, scores) in points {
        for (algo, _) in scores {
            if !algos.contains(&algo.as_str()) {
                algos.push(algo);
            }
        }
    }
    let mean_se = |xs: &[f64]| statistics::mean_and_standard_error(xs);
    let bands: Vec<Band> = algos
        .iter()
        .map(|algo| {
            let of = |point: &(String, Vec<(String, Vec<f64>)>)| {
                point.1.iter().find(|(a, _)| a == algo).map(|(_, xs)| mean_se(xs))
            };
            let mut evaluations: Vec<(f64, f64, f64)> = points
                .iter()
                .filter_map(|p| Some((p.0.parse::<f64>().ok()?, of(p)?)))
                .map(|(step, (m, se))| (step, m, se))
                .collect();
            evaluations.sort_by(|a, b| a.0.total_cmp(&b.0));
            let final_evaluation = points.iter().find(|p| p.0 == "final").and_then(of);
            Band { label: (*algo).to_owned(), points: vec![], final_evaluation, evaluations, evaluations_are: None }
        })
        .collect();
    plot::draw(path, title, "score (mean ± standard error over runs)", &bands, None, XAxis::Steps)
}

/// Reads long-format scores, one run per row: `point,algorithm,run,score`
/// (rliable's layout, for scores from any tool). Points and algorithms keep
/// the order they first appear in; a row that does not parse is an error
/// naming its line.
pub fn read_scores(path: &Path) -> Result<Points> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_scores(&text).with_context(|| format!("in {}", path.display()))
}

fn parse_scores(text: &str) -> Result<Points> {
    const HEADER: &str = "point,algorithm,run,score";
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == HEADER => {}
        _ => bail!("the first line must be the header `{HEADER}`"),
    }
    let mut points: Points = vec![];
    for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [point, algo, _run, score] = fields[..] else {
            bail!("line {}: expected 4 fields (point,algorithm,run,score), found {}", i + 1, fields.len());
        };
        let score: f64 = score
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite())
            .with_context(|| format!("line {}: the score `{score}` is not a finite number", i + 1))?;
        let at = match points.iter().position(|(p, _)| p == point) {
            Some(at) => at,
            None => {
                points.push((point.to_owned(), vec![]));
                points.len() - 1
            }
        };
        let algos = &mut points[at].1;
        match algos.iter_mut().find(|(a, _)| a == algo) {
            Some((_, xs)) => xs.push(score),
            None => algos.push((algo.to_owned(), vec![score])),
        }
    }
    if points.is_empty() {
        bail!("no scores: add one row per run under the header `{HEADER}`");
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_scores_print_with_three_significant_digits() {
        assert_eq!([2415.4, 99.9, 10.0, 9.99, 0.723, 0.05].map(decimals), [1, 1, 1, 2, 3, 4]);
        assert_eq!([0.0, f64::NAN, f64::INFINITY].map(decimals), [1, 1, 1]);
    }

    #[test]
    fn scores_group_by_point_then_algorithm_in_the_order_given() {
        let points =
            parse_scores("point,algorithm,run,score\nfinal,b,1,3\nfinal,a,1,1\n50000,a,1,0.5\nfinal,b,2,4\n").unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].0, "final");
        assert_eq!(points[0].1, vec![("b".to_owned(), vec![3.0, 4.0]), ("a".to_owned(), vec![1.0])]);
        assert_eq!(points[1], ("50000".to_owned(), vec![("a".to_owned(), vec![0.5])]));
    }

    #[test]
    fn bad_scores_name_their_line() {
        let err = |text: &str| format!("{:#}", parse_scores(text).unwrap_err());
        assert!(err("a,b,c\n").contains("header"));
        assert!(err("point,algorithm,run,score\nfinal,a,1\n").contains("line 2: expected 4 fields"));
        assert!(err("point,algorithm,run,score\nfinal,a,1,2\nfinal,a,2,nan\n").contains("line 3"));
        assert!(err("point,algorithm,run,score\n").contains("no scores"));
    }

    #[test]
    fn the_table_holds_each_statistic_for_each_algorithm_and_pair() {
        let points =
            parse_scores("point,algorithm,run,score\nfinal,a,1,1\nfinal,a,2,3\nfinal,b,1,2\nfinal,b,2,2\n").unwrap();
        let table = statistics_table(&points);
        let find = |name: &str, algo: &str| table.iter().find(|s| s.name == name && s.algo == algo).unwrap().value;
        assert_eq!(find("mean", "a").estimate, 2.0);
        assert!((find("mean", "a").high - 2.0 - 0.5f64.sqrt()).abs() < 1e-12, "the population std (1) over sqrt(2)");
        assert_eq!(find("mean", "b").low, 2.0);
        assert_eq!(find("probability_of_improvement", "a").estimate, 0.5);
        assert_eq!(table.len(), 2 * 2 + 2);
    }
}
