//! Runs `changes()` over every real PR body and lockfile patch under
//! `tests/fixtures/github/deps/` (see the README there for where each came from) and
//! compares with the expected result recorded in `cases/*.json`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use switchboard::reviews::deps::{ChangedFile, DependencyChange, changes, fingerprint};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// Where the body/patches come from (every case must say).
    source: String,
    title: String,
    body: Option<String>,
    #[serde(default)]
    files: Vec<FileRef>,
    expected: Vec<DependencyChange>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRef {
    filename: String,
    patch: Option<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/deps")
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

fn cases() -> Vec<(String, Case)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root().join("cases")).expect("cases dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).expect("case file");
            let case: Case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {name}: {e}"));
            out.push((name, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn run(case: &Case) -> Vec<DependencyChange> {
    let body = case.body.as_deref().map(read).unwrap_or_default();
    let files: Vec<ChangedFile> = case
        .files
        .iter()
        .map(|f| ChangedFile {
            filename: f.filename.clone(),
            patch: f.patch.as_deref().map(read),
        })
        .collect();
    changes(&case.title, &body, &files)
}

#[test]
fn every_fixture_case_parses_to_its_expected_changes() {
    let cases = cases();
    assert!(
        cases.len() >= 8,
        "expected the fixture cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (name, case) in &cases {
        assert!(
            !case.source.trim().is_empty(),
            "{name} does not say where it comes from"
        );
        let got = run(case);
        if got != case.expected {
            failures.push(format!(
                "{name}:\n  got      {}\n  expected {}",
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(&case.expected).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_body_and_patch_is_used_by_a_case() {
    let mut used = BTreeSet::new();
    for (_, case) in cases() {
        used.extend(case.body.clone());
        used.extend(case.files.iter().filter_map(|f| f.patch.clone()));
    }
    for dir in ["bodies", "patches"] {
        for entry in fs::read_dir(root().join(dir)).expect("fixture dir") {
            let name = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(used.contains(&name), "{name} is not used by any case");
        }
    }
}

#[test]
fn fingerprints_follow_the_dependency_set() {
    let cases = cases();
    let prints: BTreeSet<String> = cases.iter().map(|(_, c)| fingerprint(&run(c))).collect();
    assert_eq!(
        prints.len(),
        cases.len(),
        "distinct cases share a fingerprint"
    );
    for (name, case) in &cases {
        let mut reversed = run(case);
        reversed.reverse();
        assert_eq!(fingerprint(&run(case)), fingerprint(&reversed), "{name}");
    }
}

/// Bodies are cut at GitHub's 65,536-character limit and patches are windows:
/// every truncation of every fixture must parse without panicking.
#[test]
fn truncated_fixtures_never_panic() {
    fn cuts(text: &str) -> impl Iterator<Item = &str> {
        (0..=text.len())
            .step_by(61)
            .filter(|i| text.is_char_boundary(*i))
            .map(|i| &text[..i])
    }
    for (_, case) in cases() {
        let body = case.body.as_deref().map(read).unwrap_or_default();
        for cut in cuts(&body) {
            let _ = changes(&case.title, cut, &[]);
        }
        for file in &case.files {
            let Some(patch) = file.patch.as_deref().map(read) else {
                continue;
            };
            for cut in cuts(&patch) {
                let files = [ChangedFile {
                    filename: file.filename.clone(),
                    patch: Some(cut.to_string()),
                }];
                let _ = changes("", "", &files);
            }
        }
    }
}
