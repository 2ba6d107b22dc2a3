//! The command line, parsed the way the real CLI (commander.js) parses it.
//!
//! Switchboard builds this command line for a remote host, so the fake must reject what the real
//! one rejects with the same words: `error: unknown option '--x'`, a missing option value, an
//! invalid `--output-format`. `--allowedTools`/`--disallowedTools` are variadic like the real
//! ones: they swallow the following arguments up to the next option, which is how a prompt given
//! as an argument after them gets lost (one more reason to send the prompt on stdin).

use std::ffi::OsString;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    StreamJson,
}

#[derive(Debug, Default)]
pub struct Args {
    pub version: bool,
    pub help: bool,
    pub print: bool,
    pub format: Option<Format>,
    pub verbose: bool,
    pub resume: Option<String>,
    pub session_id: Option<String>,
    pub model: Option<String>,
    pub max_turns: Option<u64>,
    pub permission_mode: Option<String>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
    pub skip_permissions: bool,
    pub append_system_prompt: Option<String>,
    pub include_partial_messages: bool,
    /// The prompt given as an argument, as raw bytes.
    pub prompt: Option<Vec<u8>>,
}

pub const HELP: &str = "Usage: fake-claude [options] [prompt]

A test double of Claude Code's headless mode. The prompt (stdin when not given) may contain
`@fake <directive>` lines; see the module docs of src/bin/fake-claude/main.rs.

Options:
  -v, --version                     output the version number
  -p, --print                       print the response and exit
  --output-format <format>          text, json or stream-json
  --verbose                         required with stream-json
  -r, --resume <sessionId>          resume a session
  --session-id <uuid>               use this id for a new session
  --model <model>                   model reported in the init line
  --max-turns <turns>               stop after this many agentic turns
  --permission-mode <mode>          reported in the init line
  --allowedTools <tools...>         accepted, not enforced
  --disallowedTools <tools...>      removed from the init line's tools
  --dangerously-skip-permissions    bypassPermissions (refused as root without IS_SANDBOX=1)
  --append-system-prompt <prompt>   accepted, ignored
  --include-partial-messages        add stream_event lines
  -h, --help                        display help
";

/// Parses `argv` without the program name. The error is the whole stderr line.
pub fn parse(argv: Vec<OsString>) -> Result<Args, String> {
    let mut args = Args::default();
    let mut rest = argv.into_iter().peekable();
    let mut only_positionals = false;
    while let Some(raw) = rest.next() {
        let arg = raw.to_string_lossy().into_owned();
        if only_positionals || !arg.starts_with('-') || arg == "-" {
            if args.prompt.is_some() {
                return Err("error: too many arguments. Expected 1 argument but got 2.".to_owned());
            }
            args.prompt = Some(raw.into_encoded_bytes());
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |label: &str| -> Result<String, String> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => match rest.next() {
                    Some(value) => Ok(value.to_string_lossy().into_owned()),
                    None => Err(format!("error: option '{name} <{label}>' argument missing")),
                },
            }
        };
        match name.as_str() {
            "-v" | "--version" => args.version = true,
            "-h" | "--help" => args.help = true,
            "-p" | "--print" => args.print = true,
            "--verbose" => args.verbose = true,
            "--dangerously-skip-permissions" => args.skip_permissions = true,
            "--include-partial-messages" => args.include_partial_messages = true,
            "--output-format" => {
                let format = value("format")?;
                args.format = Some(match format.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "stream-json" => Format::StreamJson,
                    _ => {
                        return Err(format!(
                            "error: option '--output-format <format>' argument '{format}' is invalid. \
                             Allowed choices are text, json, stream-json."
                        ));
                    }
                });
            }
            "-r" | "--resume" => args.resume = Some(value("sessionId")?),
            "--session-id" => args.session_id = Some(value("uuid")?),
            "--model" => args.model = Some(value("model")?),
            "--permission-mode" => args.permission_mode = Some(value("mode")?),
            "--append-system-prompt" => args.append_system_prompt = Some(value("prompt")?),
            "--max-turns" => {
                let turns = value("turns")?;
                args.max_turns = Some(turns.parse().map_err(|_| {
                    format!("error: option '--max-turns <turns>' argument '{turns}' is invalid.")
                })?);
            }
            "--allowedTools" | "--allowed-tools" | "--disallowedTools" | "--disallowed-tools" => {
                let mut tools = vec![value("tools...")?];
                if inline.is_none() {
                    while let Some(next) =
                        rest.next_if(|next| !next.to_string_lossy().starts_with('-'))
                    {
                        tools.push(next.to_string_lossy().into_owned());
                    }
                }
                let list = if name.starts_with("--allowed") {
                    &mut args.allowed_tools
                } else {
                    &mut args.disallowed_tools
                };
                list.extend(
                    tools
                        .iter()
                        .flat_map(|t| t.split([',', ' ']))
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                );
            }
            _ => return Err(format!("error: unknown option '{arg}'")),
        }
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
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--resume=abc",
            "--model",
            "m",
            "--allowedTools",
            "Bash",
            "Write,Edit",
            "--max-turns",
            "3",
        ])
        .unwrap();
        assert!(args.print && args.verbose);
        assert_eq!(args.format, Some(Format::StreamJson));
        assert_eq!(args.resume.as_deref(), Some("abc"));
        assert_eq!(args.allowed_tools, ["Bash", "Write", "Edit"]);
        assert_eq!(args.max_turns, Some(3));
        assert_eq!(args.prompt, None);
    }

    #[test]
    fn errors_read_like_commander() {
        assert_eq!(
            parse_strs(&["-p", "--x"]).unwrap_err(),
            "error: unknown option '--x'"
        );
        assert_eq!(
            parse_strs(&["--model"]).unwrap_err(),
            "error: option '--model <model>' argument missing"
        );
        assert!(parse_strs(&["--output-format", "yaml"]).is_err());
        assert_eq!(
            parse_strs(&["-p", "hi"]).unwrap().prompt.as_deref(),
            Some(&b"hi"[..])
        );
    }
}
