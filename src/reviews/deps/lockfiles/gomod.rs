//! `go.sum`: one line per fact, two facts per module version:
//!
//! ```text
//! golang.org/x/net v0.7.0 h1:rJrUqqhjsgNp7KqAIc25s9pZnjU7TUcSY7HcVZjdn1g=
//! golang.org/x/net v0.7.0/go.mod h1:2Tu9+aMcznHK/AK1HMvgo6xiTLG5rD5rZLDS+rp2Bjs=
//! ```
//!
//! The first hashes the module's code, the second only its `go.mod`. Go keeps
//! `/go.mod` lines for versions it merely consulted while resolving the
//! module graph, so an upgrade often removes the old code line but keeps the
//! old `/go.mod` line as context. Lines are therefore read individually and
//! only changed lines count: the code lines say which versions the build uses.
//! A module whose only changed lines are `/go.mod` lines is graph noise when
//! the hunk shows one of its code lines unchanged (the build still uses that
//! version); otherwise, with nothing better to go on, it is reported from its
//! `/go.mod` lines. Either way each module version is reported once.

use std::collections::BTreeSet;

use super::super::{DependencyChange, Ecosystem};
use super::{Entry, difference, hunks, pair};

/// The changes a `go.sum` patch shows.
pub fn changes(patch: &str) -> Vec<DependencyChange> {
    let (mut code_old, mut code_new, mut mod_old, mut mod_new) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut code_unchanged: BTreeSet<String> = BTreeSet::new();
    for hunk in hunks(patch) {
        for line in &hunk.context {
            if let Some(((module, _), false)) = parse(line) {
                code_unchanged.insert(module);
            }
        }
        for line in &hunk.removed {
            match parse(line) {
                Some((entry, false)) => code_old.push(entry),
                Some((entry, true)) => mod_old.push(entry),
                None => {}
            }
        }
        for line in &hunk.added {
            match parse(line) {
                Some((entry, false)) => code_new.push(entry),
                Some((entry, true)) => mod_new.push(entry),
                None => {}
            }
        }
    }
    let (mut removed, mut added) = difference(code_old, code_new);
    let mut with_code: BTreeSet<String> = removed
        .iter()
        .chain(added.iter())
        .map(|(m, _)| m.clone())
        .collect();
    with_code.extend(code_unchanged);
    let (mod_removed, mod_added) = difference(mod_old, mod_new);
    removed.extend(
        mod_removed
            .into_iter()
            .filter(|(m, _)| !with_code.contains(m)),
    );
    added.extend(
        mod_added
            .into_iter()
            .filter(|(m, _)| !with_code.contains(m)),
    );
    pair(Ecosystem::Go, removed, added)
}

/// `module version[/go.mod] h1:hash` → ((module, version), is_go_mod_line).
fn parse(line: &str) -> Option<(Entry, bool)> {
    let mut words = line.split_whitespace();
    let module = words.next()?;
    let version = words.next()?;
    let hash = words.next()?;
    if !hash.contains(':') || !version.starts_with('v') {
        return None;
    }
    let (version, go_mod) = match version.strip_suffix("/go.mod") {
        Some(v) => (v, true),
        None => (version, false),
    };
    Some(((module.to_string(), version.to_string()), go_mod))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::tuples;
    use super::*;

    #[test]
    fn code_line_wins_and_go_mod_only_modules_still_count() {
        let patch = "@@ -1,6 +1,7 @@\n\
            -github.com/golang/glog v1.0.0 h1:nfP3RFugxnNRyKgeWd4oI1nYvXpxrx8ck8ZrcizshdQ=\n \
            github.com/golang/glog v1.0.0/go.mod h1:EWib/APOK0SL3dFbYqvxE3UYd8E6s1ouQ7iEp/0LWV4=\n\
            +github.com/golang/glog v1.1.0 h1:/d3pCKDPWNnvIWe0vVUpNP32qc8U3PDVxySP/y360qE=\n\
            +golang.org/x/sys v0.1.0/go.mod h1:abc=\n\
             golang.org/x/text v0.7.0 h1:e=\n+golang.org/x/text v0.8.0/go.mod h1:f=\n\
            -golang.org/x/net v0.7.0 h1:a=\n-golang.org/x/net v0.7.0/go.mod h1:b=\n\
            +golang.org/x/net v0.8.0 h1:c=\n+golang.org/x/net v0.8.0/go.mod h1:d=\n\
            +not a go.sum line\n";
        assert_eq!(
            tuples(&changes(patch)),
            vec![
                (
                    "github.com/golang/glog".into(),
                    Some("v1.0.0".into()),
                    Some("v1.1.0".into())
                ),
                (
                    "golang.org/x/net".into(),
                    Some("v0.7.0".into()),
                    Some("v0.8.0".into())
                ),
                ("golang.org/x/sys".into(), None, Some("v0.1.0".into())),
            ]
        );
    }
}
