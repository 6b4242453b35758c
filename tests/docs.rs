//! The README and the guide in docs/: every relative link and image
//! resolves (anchors included, as GitHub names headings), every page of the
//! guide is reachable from the README, and the front page stays short.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The front page's budget (issue 23: "about 250 lines at most").
const README_MAX_LINES: usize = 250;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown page under docs/, relative to the root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut guide: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("readable docs/").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    guide.sort();
    pages.extend(guide);
    pages
}

/// The text outside fenced code blocks, with inline code spans blanked.
fn prose(markdown: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            let mut in_code = false;
            for c in line.chars() {
                if c == '`' {
                    in_code = !in_code;
                } else if !in_code {
                    out.push(c);
                }
            }
            out.push('\n');
        }
    }
    out
}

/// The targets of `[text](target)` and `![alt](target)`.
fn link_targets(markdown: &str) -> Vec<String> {
    let text = prose(markdown);
    let mut targets = vec![];
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.to_owned());
        rest = &rest[end..];
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to hyphens, repeated headings numbered -1, -2, ...
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !fenced) else { continue };
        let heading = heading.trim_start_matches('#').trim();
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_default();
        out.insert(if *n == 0 { slug.clone() } else { format!("{slug}-{n}") });
        *n += 1;
    }
    out
}

/// `base/target` with `.` and `..` resolved, relative to the root.
fn resolve(page: &Path, target: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for part in page.parent().unwrap_or(Path::new("")).join(target).components() {
        match part {
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    path
}

fn is_external(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:")
}

/// Every broken relative link of every page, as "page: target (why)".
fn broken_links() -> Vec<String> {
    let mut broken = vec![];
    for page in pages() {
        let text = fs::read_to_string(root().join(&page)).unwrap();
        for target in link_targets(&text) {
            if target.is_empty() || is_external(&target) {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() { page.clone() } else { resolve(&page, file) };
            let full = root().join(&file);
            if !full.exists() {
                broken.push(format!("{}: {target} ({} does not exist)", page.display(), file.display()));
                continue;
            }
            if !anchor.is_empty() {
                let headings = anchors(&fs::read_to_string(&full).unwrap_or_default());
                if !headings.contains(anchor) {
                    broken.push(format!("{}: {target} (no heading #{anchor} in {})", page.display(), file.display()));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_image_resolves() {
    let broken = broken_links();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_the_guide_is_reachable_from_the_readme() {
    let mut reached = BTreeSet::from([PathBuf::from("README.md")]);
    let mut queue = vec![PathBuf::from("README.md")];
    while let Some(page) = queue.pop() {
        let text = fs::read_to_string(root().join(&page)).unwrap();
        for target in link_targets(&text).into_iter().filter(|t| !is_external(t)) {
            let file = target.split('#').next().unwrap_or("");
            if file.ends_with(".md") {
                let next = resolve(&page, file);
                if reached.insert(next.clone()) && root().join(&next).exists() {
                    queue.push(next);
                }
            }
        }
    }
    let unreached: Vec<String> =
        pages().into_iter().filter(|p| !reached.contains(p)).map(|p| p.display().to_string()).collect();
    assert!(unreached.is_empty(), "pages no link leads to from README.md: {unreached:?}");
}

#[test]
fn the_front_page_is_short() {
    let lines = fs::read_to_string(root().join("README.md")).unwrap().lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines; move detail into docs/ (at most {README_MAX_LINES})"
    );
}

#[test]
fn the_checker_finds_what_it_should() {
    // Anchors as GitHub makes them, repeated headings numbered.
    let headings =
        anchors("# The Fisher in RL, four ways: K-FAC\n## `natgrad train`\n## Ctrl-C\n## Ctrl-C\n```\n# not\n```");
    let expected = ["ctrl-c", "ctrl-c-1", "natgrad-train", "the-fisher-in-rl-four-ways-k-fac"];
    assert_eq!(headings, expected.iter().map(|s| s.to_string()).collect());
    // Links and images outside code, none inside.
    let links = link_targets("See [a](docs/a.md#x) and ![b](images/b.png).\n`[c](no.md)`\n```\n[d](no.md)\n```\n");
    assert_eq!(links, ["docs/a.md#x", "images/b.png"]);
    assert_eq!(resolve(Path::new("docs/speed.md"), "../presets.toml"), PathBuf::from("presets.toml"));
    assert_eq!(resolve(Path::new("README.md"), "./docs/agents.md"), PathBuf::from("docs/agents.md"));
}
