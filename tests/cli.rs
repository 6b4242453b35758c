//! End-to-end tests of the `natgrad` binary.

use std::process::Output;

mod common;
use common::natgrad;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn envs_lists_every_environment_with_spaces_limits_and_thresholds() {
    let out = natgrad(&["envs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for id in ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "Hopper-v5"] {
        assert!(text.lines().any(|l| l == id), "{id} missing from:\n{text}");
    }
    assert!(text.contains("observation  Box(-inf, inf, [11])"), "{text}");
    assert!(text.contains("action       Discrete(2)"), "{text}");
    assert!(text.contains("action       Box([-2], [2], [1])"), "{text}");
    assert!(text.contains("at most 500 steps; reward threshold 475"), "{text}");
    assert!(text.contains("at most 200 steps; reward threshold none"), "{text}");
    assert!(!text.contains("random play"));
}

#[test]
fn random_episodes_print_returns_and_are_reproducible() {
    let a = natgrad(&["envs", "--random-episode", "--seed", "3"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let text = stdout(&a);
    // The five classic environments and the nine MuJoCo tasks.
    assert_eq!(text.matches("random play  return ").count(), 14, "{text}");
    // MountainCar never reaches the flag by chance in 200 steps.
    assert!(text.contains("return -200.00 over 200 steps (seed 3)"), "{text}");
    let b = natgrad(&["envs", "--random-episode", "--seed", "3"]);
    assert_eq!(text, stdout(&b));
    let c = natgrad(&["envs", "--random-episode", "--seed", "4"]);
    assert_ne!(text, stdout(&c));
}

#[test]
fn help_shows_commands_and_examples() {
    let out = natgrad(&["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.contains("envs"));
    // The first line says what natgrad is: every agent, the Fishers, and Gymnasium beyond classic control.
    let first = help.lines().next().unwrap_or_default();
    for what in ["TRPO", "NPG", "ACKTR", "VPG", "K-FAC", "every Gymnasium environment"] {
        assert!(first.contains(what), "{what} missing from the first line of --help: {first}");
    }
    let out = natgrad(&["envs", "--help"]);
    assert!(stdout(&out).contains("Examples:"), "{}", stdout(&out));
}

#[test]
fn bad_arguments_are_clear_errors() {
    let out = natgrad(&["trian"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unrecognized subcommand 'trian'"), "{}", stderr(&out));
    let out = natgrad(&["envs", "--seed", "minus-one"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'minus-one' for '--seed <SEED>'"), "{}", stderr(&out));
}

#[test]
fn statistics_reads_scores_from_any_tool() {
    let dir = std::env::temp_dir().join(format!("natgrad-statistics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scores = dir.join("scores.csv");
    let rows: String = [("a", [1.0, 2.0, 3.0, 4.0]), ("b", [2.0, 3.0, 4.0, 5.0])]
        .iter()
        .flat_map(|(algo, xs)| xs.iter().enumerate().map(move |(i, x)| format!("final,{algo},{i},{x}\n")))
        .collect();
    std::fs::write(&scores, format!("point,algorithm,run,score\n{rows}")).unwrap();
    let table = dir.join("statistics.csv");
    let png = dir.join("curves.png");
    let out = natgrad(&[
        "statistics",
        scores.to_str().unwrap(),
        "--csv",
        table.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // mean ± population std / sqrt(n); the IQM of four is the mean of the middle two; P(b > a) counts ties
    // as halves: 11.5 of 16 pairs.
    assert!(stdout(&out).contains("| a | 4 | 2.50 ± 0.56 | 2.50 ["), "{}", stdout(&out));
    assert!(stdout(&out).contains("| b | 4 | 3.50 ± 0.56 | 3.50 ["), "{}", stdout(&out));
    let csv = std::fs::read_to_string(&table).unwrap();
    assert!(csv.starts_with("point,statistic,algorithm,versus,estimate,low,high,runs\n"), "{csv}");
    assert!(csv.contains("final,probability_of_improvement,b,a,0.71875,"), "{csv}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"), "curves.png is not a PNG");

    std::fs::write(&scores, "point,algorithm,run,score\nfinal,a,1,oops\n").unwrap();
    let out = natgrad(&["statistics", scores.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2: the score `oops` is not a finite number"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}
