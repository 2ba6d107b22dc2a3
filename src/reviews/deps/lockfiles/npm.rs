//! `package-lock.json` / `npm-shrinkwrap.json`.
//!
//! Lockfile v2 and v3 list installs under `"packages"`, keyed by path:
//!
//! ```text
//!      "node_modules/ws": {
//! -      "version": "7.5.9",
//! +      "version": "7.5.10",
//! ```
//!
//! A nested copy is `"node_modules/a/node_modules/ws"`: the name is what
//! follows the last `node_modules/`. Keys without `node_modules/` are the
//! root (`""`) or workspace folders, not registry packages. Lockfile v1 (and
//! v2's legacy mirror) key `"dependencies"` by bare name (`"ws": {`), nested
//! for nested copies. Either way `"version"` is the first key of an entry,
//! so a line scanner takes the first `"version"` after an entry's key. The
//! file is not parsed as JSON: a hunk is a fragment of it.

use super::{Entry, quoted};

/// Object-valued fields of an entry; a key line naming one of them opens a
/// field, not a package.
const FIELDS: &[&str] = &[
    "bin",
    "bundleDependencies",
    "dependencies",
    "dependenciesMeta",
    "devDependencies",
    "engines",
    "funding",
    "optionalDependencies",
    "overrides",
    "packages",
    "peerDependencies",
    "peerDependenciesMeta",
    "requires",
];

/// The `(name, version)` pairs one side of a hunk shows.
pub fn entries(lines: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in lines {
        let t = line.trim();
        if t.starts_with('"') && t.ends_with('{') {
            pending = quoted(t).and_then(package_key);
        } else if let Some(rest) = t.strip_prefix("\"version\":")
            && let (Some(name), Some(version)) = (pending.take(), quoted(rest))
            && !version.is_empty()
        {
            out.push((name, version.to_string()));
        }
    }
    out
}

/// The package an entry key names, if it names one.
fn package_key(key: &str) -> Option<String> {
    if let Some(at) = key.rfind("node_modules/") {
        let name = &key[at + "node_modules/".len()..];
        return (!name.is_empty()).then(|| name.to_string());
    }
    if key.is_empty() || FIELDS.contains(&key) {
        return None;
    }
    if key.contains('/') && !key.starts_with('@') {
        return None; // a workspace folder such as "packages/app"
    }
    Some(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::from_lockfile_patch;
    use super::super::test_util::tuples;
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(package_key("node_modules/ws").as_deref(), Some("ws"));
        assert_eq!(
            package_key("node_modules/a/node_modules/@types/node").as_deref(),
            Some("@types/node")
        );
        assert_eq!(package_key("ws").as_deref(), Some("ws"));
        assert_eq!(package_key("@scope/x").as_deref(), Some("@scope/x"));
        assert_eq!(package_key(""), None);
        assert_eq!(package_key("packages/app"), None);
        assert_eq!(package_key("dependencies"), None);
        assert_eq!(package_key("node_modules/"), None);
    }

    #[test]
    fn root_and_field_versions_are_not_packages() {
        let lines = [
            "{",
            "  \"name\": \"demo\",",
            "  \"version\": \"1.0.0\",",
            "  \"packages\": {",
            "    \"\": {",
            "      \"name\": \"demo\",",
            "      \"version\": \"1.0.0\",",
            "    \"node_modules/a\": {",
            "      \"engines\": {",
            "        \"version\": \"9\"",
            "    \"node_modules/b\": {",
            "      \"version\": \"2.0.0\",",
        ];
        assert_eq!(
            entries(&lines),
            vec![("b".to_string(), "2.0.0".to_string())]
        );
    }

    #[test]
    fn v1_nested_dependencies() {
        let patch = "@@ -1,9 +1,9 @@\n     \"a\": {\n       \"version\": \"1.0.0\",\n       \"dependencies\": {\n         \"b\": {\n-          \"version\": \"2.0.0\",\n+          \"version\": \"2.0.1\",\n";
        assert_eq!(
            tuples(&from_lockfile_patch("package-lock.json", patch)),
            vec![("b".into(), Some("2.0.0".into()), Some("2.0.1".into()))]
        );
    }
}
