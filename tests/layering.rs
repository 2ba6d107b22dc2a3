//! The floors of `src/` import downward only, and no two modules of one folder import each other.
//!
//! docs/design.md (Layout) draws the floors: `domain` at the bottom with the words every floor
//! shares; `config`, `store`, `render` and `panics` on it; `runner` and `agents` above; `reviews`
//! above the runner; `core` deciding over all of these; `edge`, `bots`, `web`, `audit` and
//! `check` above the core; `app` and the CLI wiring it all. This test reads every `crate::…`
//! path in `src/` (imports and paths in code, braced imports too; comments aside) and fails on an
//! arrow the table below does not allow, naming the file and the path — so a shortcut that
//! would tangle the floors is caught when it is written, not when someone next tries to move a
//! floor. Within a folder, the modules beside each other must not import each other in a
//! circle (the folder's own `mod.rs`, its façade, aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may import from the others (itself always).
const FLOORS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("panics", &[]),
    ("render", &[]),
    ("config", &["domain"]),
    ("store", &["domain"]),
    ("runner", &["domain", "config"]),
    ("agents", &["domain", "config"]),
    ("reviews", &["domain", "config", "runner"]),
    (
        "core",
        &[
            "domain", "config", "store", "runner", "agents", "reviews", "render", "panics",
        ],
    ),
    ("edge", &["domain", "config", "store"]),
    (
        "bots",
        &[
            "domain", "config", "store", "runner", "agents", "reviews", "render", "panics", "core",
            "edge",
        ],
    ),
    (
        "web",
        &[
            "domain", "config", "store", "runner", "render", "panics", "core", "edge",
        ],
    ),
    ("audit", &["domain", "config", "store", "core"]),
    (
        "check",
        &[
            "domain", "config", "store", "runner", "agents", "core", "bots",
        ],
    ),
    (
        "app",
        &[
            "domain", "config", "store", "runner", "agents", "reviews", "render", "panics", "core",
            "edge", "bots", "web", "audit", "check",
        ],
    ),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("reading src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of a file without its comments (line comments and doc comments; the code here has
/// no `//` inside strings that would matter to a path).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of each path after `prefix` (`crate::`, `super::`): `crate::core::Core`
/// gives `core`, `crate::{core::Core, store::{Store, x}}` gives `core` and `store`.
fn heads(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            let mut take = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !item.is_empty() {
                            out.push(std::mem::take(&mut item));
                        }
                        take = true;
                        continue;
                    }
                    _ => {}
                }
                if take && depth == 0 {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        out.push(std::mem::take(&mut item));
                        take = false;
                    }
                }
            }
            if !item.is_empty() {
                out.push(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The path of a file relative to `src/`, as module segments (`core/router.rs` → `core`,
/// `router`; `core/mod.rs` → `core`).
fn segments(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("a file under src/");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files of the library (the binaries are the CLI and the fake agent: they sit above it).
fn library() -> Vec<(Vec<String>, String)> {
    let src = src();
    sources(&src)
        .into_iter()
        .map(|file| (segments(&src, &file), file))
        .filter(|(segments, _)| {
            !matches!(
                segments.first().map(String::as_str),
                Some("bin" | "main" | "lib")
            )
        })
        .map(|(segments, file)| {
            let text = std::fs::read_to_string(&file).expect("reading a source file");
            (segments, code(&text))
        })
        .collect()
}

#[test]
fn every_floor_imports_only_the_floors_below_it() {
    let floors: BTreeMap<&str, &[&str]> = FLOORS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (segments, code) in library() {
        let floor = segments[0].as_str();
        let Some(allowed) = floors.get(floor) else {
            wrong.push(format!("src/{floor} is on no floor: add it to FLOORS"));
            continue;
        };
        for head in heads(&code, "crate::") {
            if head != floor && !allowed.contains(&head.as_str()) {
                wrong.push(format!("{} imports crate::{head}", segments.join("/")));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "arrows from a floor to one it may not use:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_domain_does_no_io_and_needs_no_runtime() {
    let forbidden = [
        "tokio",
        "sqlx",
        "reqwest",
        "russh",
        "axum",
        "std::fs",
        "std::net",
        "std::process",
    ];
    let mut wrong = Vec::new();
    for (segments, code) in library() {
        if segments[0] != "domain" {
            continue;
        }
        for word in forbidden {
            if code.contains(&format!("{word}::")) {
                wrong.push(format!("{} uses {word}", segments.join("/")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the domain must stay plain data:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn modules_beside_each_other_import_no_circle() {
    // Edges between the children of each folder: `a/b/x.rs` naming `super::y` or
    // `crate::a::b::y` depends on its sibling `y`.
    let files = library();
    let mut children: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for (segments, _) in &files {
        for depth in 1..segments.len() {
            children
                .entry(segments[..depth].to_vec())
                .or_default()
                .insert(segments[depth].clone());
        }
    }
    let mut edges: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for (segments, code) in &files {
        for depth in 1..segments.len() {
            let folder = &segments[..depth];
            let me = &segments[depth];
            let Some(siblings) = children.get(folder) else {
                continue;
            };
            let mut named = Vec::new();
            if depth == segments.len() - 1 {
                named.extend(heads(code, "super::"));
            }
            let full = format!("crate::{}::", folder.join("::"));
            named.extend(heads(code, &full));
            for other in named {
                if other != *me && siblings.contains(&other) {
                    edges
                        .entry(folder.to_vec())
                        .or_default()
                        .insert((me.clone(), other));
                }
            }
        }
    }
    let mut circles = Vec::new();
    for (folder, edges) in &edges {
        for (from, to) in edges {
            if from < to && reaches(edges, to, from) {
                circles.push(format!("src/{}: {from} ⇄ {to}", folder.join("/")));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules that import each other (directly or round a circle):\n  {}",
        circles.join("\n  ")
    );
}

/// Whether `to` can be reached from `from` along `edges`.
fn reaches(edges: &BTreeSet<(String, String)>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut next = vec![from.to_owned()];
    while let Some(at) = next.pop() {
        if at == to {
            return true;
        }
        if seen.insert(at.clone()) {
            next.extend(
                edges
                    .iter()
                    .filter(|(f, _)| *f == at)
                    .map(|(_, t)| t.clone()),
            );
        }
    }
    false
}

#[test]
fn the_path_reader_sees_braced_and_plain_imports() {
    let code = "use crate::{core::Core, store::{Store, x}};\nlet a = crate::runner::hosts::Host;\nmy_crate::bots::x;";
    assert_eq!(heads(code, "crate::"), ["core", "store", "runner"]);
    assert_eq!(heads("use super::{a, b::c};", "super::"), ["a", "b"]);
}
