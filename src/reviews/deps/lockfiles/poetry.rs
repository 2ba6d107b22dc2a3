//! `poetry.lock`: TOML `[[package]]` tables, `name = "requests"` then
//! `version = "2.31.0"`, exactly like `Cargo.lock` (see [`super::cargo`]).
//! Sub-tables (`[package.dependencies]`, `[package.extras]`, `[metadata]`)
//! end the current package, so their keys are never taken for versions.

use super::Entry;

/// The `(name, version)` pairs one side of a hunk shows.
pub fn entries(lines: &[&str]) -> Vec<Entry> {
    super::cargo::toml_packages(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_tables_are_not_packages() {
        let lines = [
            "[package.dependencies]",
            "version = \">=1.0\"",
            "[[package]]",
            "name = \"idna\"",
            "version = \"3.7\"",
            "description = \"x\"",
            "[package.dependencies]",
            "version = \">=2\"",
        ];
        assert_eq!(
            entries(&lines),
            vec![("idna".to_string(), "3.7".to_string())]
        );
    }
}
