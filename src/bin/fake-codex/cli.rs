//! The command line, parsed the way the real CLI (clap) parses `codex exec`.
//!
//! Only what Switchboard builds is accepted; anything else fails with clap's words and exit 2,
//! so a command line the real CLI would refuse fails the tests too.

use std::ffi::OsString;

#[derive(Debug, Default)]
pub struct Args {
    pub version: bool,
    pub exec: bool,
    pub json: bool,
    pub model: Option<String>,
    /// `--sandbox`, or `danger-full-access` for the bypass flag.
    pub sandbox: Option<String>,
    /// Every `-c key=value`, as given.
    pub overrides: Vec<String>,
    /// `resume THREAD_ID`.
    pub resume: Option<String>,
    /// The prompt argument; `None` or `-`: stdin.
    pub prompt: Option<Vec<u8>>,
}

/// Parses `argv` without the program name. The error is the whole stderr text.
pub fn parse(argv: Vec<OsString>) -> Result<Args, String> {
    let mut args = Args::default();
    let mut rest = argv.into_iter();
    let mut positionals = Vec::new();
    while let Some(raw) = rest.next() {
        let arg = raw.to_string_lossy().into_owned();
        if !arg.starts_with('-') || arg == "-" {
            positionals.push(raw);
            continue;
        }
        let mut value = |name: &str| {
            rest.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    format!("error: a value is required for '{name}' but none was supplied")
                })
        };
        match arg.as_str() {
            "-V" | "--version" => args.version = true,
            "--json" => args.json = true,
            "--skip-git-repo-check" | "--color=never" => {}
            "--color" => drop(value("--color <COLOR>")?),
            "-m" | "--model" => args.model = Some(value("--model <MODEL>")?),
            "-s" | "--sandbox" => {
                let mode = value("--sandbox <SANDBOX_MODE>")?;
                if !["read-only", "workspace-write", "danger-full-access"].contains(&mode.as_str())
                {
                    return Err(format!(
                        "error: invalid value '{mode}' for '--sandbox <SANDBOX_MODE>'"
                    ));
                }
                args.sandbox = Some(mode);
            }
            "--dangerously-bypass-approvals-and-sandbox" => {
                args.sandbox = Some("danger-full-access".to_owned())
            }
            "-c" | "--config" => args.overrides.push(value("--config <key=value>")?),
            _ => return Err(format!("error: unexpected argument '{arg}' found")),
        }
    }
    let mut positionals = positionals.into_iter();
    match positionals.next() {
        Some(command) if command == "exec" => args.exec = true,
        Some(other) => {
            return Err(format!(
                "fake-codex: only `exec` is supported, not {:?}",
                other.to_string_lossy()
            ));
        }
        None => return Ok(args),
    }
    let mut next = positionals.next();
    if next.as_ref().is_some_and(|p| p == "resume") {
        args.resume = positionals
            .next()
            .map(|id| id.to_string_lossy().into_owned());
        if args.resume.is_none() {
            return Err("error: resume needs a SESSION_ID (or --last)".to_owned());
        }
        next = positionals.next();
    }
    args.prompt = next.map(OsString::into_encoded_bytes);
    if let Some(extra) = positionals.next() {
        return Err(format!(
            "error: unexpected argument '{}' found",
            extra.to_string_lossy()
        ));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(argv: &[&str]) -> Result<Args, String> {
        parse(argv.iter().map(OsString::from).collect())
    }

    #[test]
    fn parses_the_switchboard_command_line() {
        let args = parse_strs(&[
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write",
            "-c",
            "approval_policy=\"never\"",
            "-m",
            "gpt-x",
            "resume",
            "tid",
            "-",
        ])
        .unwrap();
        assert!(args.exec && args.json);
        assert_eq!(args.sandbox.as_deref(), Some("workspace-write"));
        assert_eq!(args.overrides, ["approval_policy=\"never\""]);
        assert_eq!(args.resume.as_deref(), Some("tid"));
        assert_eq!(args.prompt.as_deref(), Some(&b"-"[..]));
        assert!(parse_strs(&["exec", "--x"]).is_err());
        assert!(parse_strs(&["exec", "-s", "all"]).is_err());
        assert!(parse_strs(&["exec", "a", "b"]).is_err());
    }
}
