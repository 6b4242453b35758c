//! End-to-end tests of `natgrad demo ngd`.

mod common;
use common::{TempDir, natgrad, text};

/// The iterations a method needed on a problem, from the summary table
/// (`None`: not within the cap).
fn iterations(stdout: &str, problem: &str, method: &str) -> Option<usize> {
    let prefix = format!("| {problem} | {method} | ");
    let line = stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in:\n{stdout}"));
    line.trim_end_matches(" |").rsplit(" | ").next().unwrap().parse().ok()
}

#[test]
fn the_ngd_demo_tabulates_the_sweep_and_draws_both_problems() {
    let tmp = TempDir::new("demo-ngd");
    let out_dir = tmp.path().join("nested/out");
    let out = natgrad(&["demo", "ngd", "--out", out_dir.to_str().unwrap(), "--max-iters", "400"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let ill = "ill-conditioned (x1 multiplied by 100)";
    for problem in ["well-conditioned", ill] {
        // Exact NGD with step 1 is Newton's method here: a handful of steps.
        assert!(iterations(&stdout, problem, "NGD, exact Fisher").is_some_and(|n| n <= 10), "{stdout}");
        assert!(iterations(&stdout, problem, "NGD, empirical Fisher").is_some(), "{stdout}");
    }
    // Gradient descent gets there on the well-conditioned problem only, and
    // far more slowly than NGD.
    assert!(iterations(&stdout, "well-conditioned", "gradient descent").is_some_and(|n| n > 50), "{stdout}");
    assert_eq!(iterations(&stdout, ill, "gradient descent"), None, "{stdout}");
    assert!(stdout.contains("not within 400"), "{stdout}");
    // The sweep: one row per method and problem, a cell per step size.
    assert_eq!(stdout.lines().filter(|l| l.starts_with("| NGD, diagonal Fisher | ")).count(), 2, "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("| NGD, K-FAC Fisher | ")).count(), 2, "{stdout}");
    // K-FAC's blocks on logistic regression: E[x xᵀ] ⊗ E[g gᵀ] instead of
    // E[x xᵀ ⊗ g gᵀ], an approximation that still converges, in more steps
    // than the exact Fisher.
    let kfac = iterations(&stdout, "well-conditioned", "NGD, K-FAC Fisher");
    assert!(kfac.is_some_and(|n| n > 4 && n < 100), "{stdout}");

    let png = std::fs::read(out_dir.join("ngd.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let sweep = std::fs::read_to_string(out_dir.join("ngd_sweep.csv")).unwrap();
    assert_eq!(sweep.lines().count(), 1 + 2 * 5 * 19, "{sweep}");
    let curves = std::fs::read_to_string(out_dir.join("ngd_curves.csv")).unwrap();
    assert!(curves.lines().skip(1).all(|l| l.split(',').count() == 6), "{curves}");
    assert!(curves.contains("\nill_conditioned,ngd_exact,1,0,"), "{curves}");
    // The same seed gives the same data, hence the same figures.
    let again = natgrad(&["demo", "ngd", "--out", out_dir.to_str().unwrap(), "--max-iters", "400"]);
    assert_eq!(stdout, text(&again.stdout));
}

#[test]
fn bad_demo_arguments_are_one_clear_line() {
    let tmp = TempDir::new("demo-ngd-bad");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "keep me").unwrap();
    for (args, message) in [
        (vec!["--l2=-1"], "--l2 must be a finite number >= 0, got -1"),
        (vec!["--tolerance", "0"], "--tolerance must be a positive number"),
        (vec!["--max-iters", "0"], "--max-iters must be at least 1"),
        (vec!["--out", file.to_str().unwrap()], "cannot create the output folder"),
    ] {
        let out = natgrad(&[&["demo", "ngd"], &args[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("error: ") && stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    let out = natgrad(&["demo", "ngd", "--max-iters", "many"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'many'"), "{}", text(&out.stderr));
}
