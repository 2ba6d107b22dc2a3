//! The command line, parsed like the real CLI's `opencode run` (yargs).
//!
//! Only what Switchboard builds, and a few harmless flags, are accepted; anything else fails with
//! exit 2, so a command line the fake does not understand fails the tests loudly.

use std::ffi::OsString;

#[derive(Debug, Default)]
pub struct Args {
    pub version: bool,
    pub run: bool,
    /// `--format json`.
    pub json: bool,
    /// `--session ID`.
    pub session: Option<String>,
    pub title: Option<String>,
    /// `-m provider/model`.
    pub model: Option<String>,
    pub agent: Option<String>,
    /// `--auto`: approve what the permission rules leave to asking.
    pub auto: bool,
    /// Message words given as arguments (joined before stdin, as measured).
    pub message: Vec<String>,
}

/// Parses `argv` without the program name. The error is the whole stderr text.
pub fn parse(argv: Vec<OsString>) -> Result<Args, String> {
    let mut args = Args::default();
    let mut rest = argv.into_iter().map(|a| a.to_string_lossy().into_owned());
    let mut positionals = Vec::new();
    while let Some(arg) = rest.next() {
        if !arg.starts_with('-') {
            positionals.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline.clone().or_else(|| rest.next()).ok_or_else(|| {
                format!(
                    "Not enough arguments following: {}",
                    name.trim_start_matches('-')
                )
            })
        };
        match name.as_str() {
            "-v" | "--version" => args.version = true,
            "--format" => {
                let format = value()?;
                match format.as_str() {
                    "json" => args.json = true,
                    "default" => args.json = false,
                    _ => {
                        return Err(format!(
                            "Invalid values:\n  Argument: format, Given: \"{format}\", Choices: \"default\", \"json\""
                        ));
                    }
                }
            }
            "-s" | "--session" => args.session = Some(value()?),
            "--title" => args.title = Some(value()?),
            "-m" | "--model" => args.model = Some(value()?),
            "--agent" => args.agent = Some(value()?),
            "--variant" => drop(value()?),
            "--auto" => args.auto = true,
            "--pure" | "--thinking" => {}
            _ => return Err(format!("fake-opencode: unknown option {arg}")),
        }
    }
    let mut positionals = positionals.into_iter();
    match positionals.next() {
        Some(command) if command == "run" => args.run = true,
        Some(other) => {
            return Err(format!(
                "fake-opencode: only `run` is supported, not {other:?}"
            ));
        }
        None => return Ok(args),
    }
    args.message = positionals.collect();
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
            "run",
            "--format",
            "json",
            "--session",
            "ses_1",
            "-m",
            "p/m",
            "--agent",
            "plan",
            "--auto",
        ])
        .unwrap();
        assert!(args.run && args.json && args.auto);
        assert_eq!(args.session.as_deref(), Some("ses_1"));
        assert_eq!(args.model.as_deref(), Some("p/m"));
        assert_eq!(args.agent.as_deref(), Some("plan"));
        let titled = parse_strs(&["run", "--format=json", "--title", "Switchboard", "hi"]).unwrap();
        assert_eq!(titled.title.as_deref(), Some("Switchboard"));
        assert_eq!(titled.message, ["hi"]);
        assert!(parse_strs(&["run", "--format", "yaml"]).is_err());
        assert!(parse_strs(&["run", "--bogus"]).is_err());
        assert!(parse_strs(&["run", "--session"]).is_err());
        assert!(parse_strs(&["serve"]).is_err());
    }
}
