//! The prompt is the script: `@fake <directive> [args]` lines steer the run.
//!
//! Switchboard's tests can only reach the agent through a chat message, so everything a test
//! wants the agent to do (be slow, run a tool, fail like the API does, answer with long Markdown)
//! has to be said in the prompt text. Parsing is pure and happens before anything is printed: a
//! mistyped directive fails the run loudly (exit 2) instead of silently becoming prompt text and
//! letting a test pass for the wrong reason.

use std::time::Duration;

use crate::tree::Node;

/// How often `wait-for` looks for its file, and for how long before the run fails (exit 3).
pub const WAIT_FOR_POLL: Duration = Duration::from_millis(20);
pub const WAIT_FOR_LIMIT: Duration = Duration::from_secs(120);

/// One step of the script, run in prompt order.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Wait as if on the API.
    Sleep(Duration),
    /// Wait as if on the API until the file exists (what a test creates once it has looked at
    /// the running agent).
    WaitFor(String),
    /// A `Bash` tool that really sleeps; `arg` is the text as written, for the tool input.
    ToolSleep {
        arg: String,
        duration: Duration,
    },
    /// A tool_use of any tool, not executed.
    Tool {
        name: String,
        input: Node,
    },
    /// A `Write` tool_use that really writes the file.
    Write {
        path: String,
        content: String,
    },
    /// A `Bash` tool_use committing everything in the cwd's Git repository, really run.
    Commit(String),
    /// A `Bash` tool_use `mv FROM TO`, really done (without a shell).
    Move {
        from: String,
        to: String,
    },
    /// A `Bash` tool_use `rm PATH`, really done (without a shell).
    Remove(String),
    /// A `Bash` tool_use writing bytes (given as base64) to a file, really done.
    WriteBytes {
        path: String,
        bytes: Vec<u8>,
    },
    /// An intermediate assistant text block.
    Text(String),
    ApiError(u16),
    ConnectionRefused,
    MaxTurns,
    PermissionDenied {
        tool: String,
        input: Node,
    },
    Stderr(String),
    Crash(i32),
}

/// How the final answer was asked for.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// No answer directive: `Echo #<turn>: <first prompt line>`.
    Echo,
    Text(String),
    /// A generated Markdown answer of about this many bytes.
    Bytes(usize),
}

#[derive(Debug, PartialEq)]
pub struct Script {
    pub steps: Vec<Step>,
    pub answer: Answer,
    /// The first non-directive, non-blank line (at most 200 chars), for the echo answer.
    pub first_line: String,
}

const PREFIX: &str = "@fake";
const ECHO_MAX_CHARS: usize = 200;

pub fn parse(prompt: &str) -> Result<Script, String> {
    let mut steps = Vec::new();
    let mut answer = Answer::Echo;
    let mut first_line: Option<String> = None;
    let mut rest = prompt;
    let mut line_no = 0;
    while !rest.is_empty() {
        line_no += 1;
        let (raw, next) = match rest.find('\n') {
            Some(n) => (&rest[..n], &rest[n + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let Some(body) = directive_body(line) else {
            if first_line.is_none() && !line.trim().is_empty() {
                first_line = Some(line.chars().take(ECHO_MAX_CHARS).collect());
            }
            continue;
        };
        let (name, args) = split_word(body);
        let fail = |why: &str| format!("line {line_no}: `{PREFIX} {name}`: {why}");
        match name {
            "sleep" => steps.push(Step::Sleep(seconds(args).map_err(|e| fail(&e))?)),
            "wait-for" if !args.trim().is_empty() => {
                steps.push(Step::WaitFor(args.trim().to_owned()))
            }
            "tool-sleep" => steps.push(Step::ToolSleep {
                arg: args.to_owned(),
                duration: seconds(args).map_err(|e| fail(&e))?,
            }),
            "tool" => {
                let (tool, json) = split_word(args);
                if tool.is_empty() {
                    return Err(fail("expected NAME JSON"));
                }
                steps.push(Step::Tool {
                    name: tool.to_owned(),
                    input: object(json).map_err(|e| fail(&e))?,
                });
            }
            "write" => {
                let (path, text) = split_word(args);
                if path.is_empty() {
                    return Err(fail("expected PATH TEXT"));
                }
                steps.push(Step::Write {
                    path: path.to_owned(),
                    content: unescape(text),
                });
            }
            "mv" => {
                let (from, to) = split_word(args);
                if from.is_empty() || to.trim().is_empty() {
                    return Err(fail("expected FROM TO"));
                }
                steps.push(Step::Move {
                    from: from.to_owned(),
                    to: to.trim().to_owned(),
                });
            }
            "rm" if !args.trim().is_empty() => steps.push(Step::Remove(args.trim().to_owned())),
            "write-base64" => {
                use base64::Engine;
                let (path, encoded) = split_word(args);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| fail(&format!("expected PATH BASE64: {e}")))?;
                if path.is_empty() {
                    return Err(fail("expected PATH BASE64"));
                }
                steps.push(Step::WriteBytes {
                    path: path.to_owned(),
                    bytes,
                });
            }
            "commit" => {
                if args.trim().is_empty() {
                    return Err(fail("expected a commit message"));
                }
                steps.push(Step::Commit(args.trim().to_owned()));
            }
            "text" => steps.push(Step::Text(unescape(args))),
            "text-bytes" => steps.push(Step::Text(markdown_of_size(
                args.parse().map_err(|_| fail("expected a byte count"))?,
            ))),
            "answer" => answer = Answer::Text(unescape(args)),
            "answer-follows" => {
                // Everything after this line, verbatim, minus the one newline a sender adds.
                let text = rest.strip_suffix('\n').unwrap_or(rest);
                let text = text.strip_suffix('\r').unwrap_or(text);
                answer = Answer::Text(text.to_owned());
                break;
            }
            "answer-bytes" => {
                answer = Answer::Bytes(args.parse().map_err(|_| fail("expected a byte count"))?)
            }
            "api-error" => {
                let status = args.parse().map_err(|_| fail("expected an HTTP status"))?;
                steps.push(Step::ApiError(status));
            }
            "connection-refused" => steps.push(Step::ConnectionRefused),
            "max-turns" => steps.push(Step::MaxTurns),
            "permission-denied" => {
                let (tool, json) = split_word(args);
                if tool.is_empty() {
                    return Err(fail("expected TOOL [JSON]"));
                }
                let input = if json.is_empty() {
                    Node::Obj(Vec::new())
                } else {
                    object(json).map_err(|e| fail(&e))?
                };
                steps.push(Step::PermissionDenied {
                    tool: tool.to_owned(),
                    input,
                });
            }
            "stderr" => steps.push(Step::Stderr(args.to_owned())),
            "crash" => steps.push(Step::Crash(
                args.parse().map_err(|_| fail("expected an exit code"))?,
            )),
            _ => return Err(fail("unknown directive")),
        }
    }
    Ok(Script {
        steps,
        answer,
        first_line: first_line.unwrap_or_default(),
    })
}

/// The text after `@fake` if `line` is a directive line.
fn directive_body(line: &str) -> Option<&str> {
    let after = line.trim_start().strip_prefix(PREFIX)?;
    if after.is_empty() || after.starts_with(char::is_whitespace) {
        Some(after.trim())
    } else {
        None
    }
}

/// Splits off the first whitespace-delimited word; the rest loses its leading whitespace only.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(n) => (&text[..n], text[n..].trim_start()),
        None => (text, ""),
    }
}

fn seconds(arg: &str) -> Result<Duration, String> {
    arg.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("expected seconds, got {arg:?}"))
}

fn object(json: &str) -> Result<Node, String> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(_)) => Node::parse(json),
        Ok(_) => Err("the input must be a JSON object".to_owned()),
        Err(e) => Err(format!("bad JSON: {e}")),
    }
}

/// `\n` becomes a newline and `\\` a backslash; any other backslash is kept as written.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A deterministic Markdown answer of `size` bytes (a few bytes short when `size` is tiny),
/// mixing headings, paragraphs, lists, quotes, non-ASCII text and fenced code. Only whole blocks
/// are used before the final filler paragraph, so code fences are always closed.
pub fn markdown_of_size(size: usize) -> String {
    const FILLER: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
                          tempor incididunt ut labore et dolore magna aliqua. ";
    let mut out = String::new();
    for n in 1.. {
        let block = match n % 6 {
            1 => format!("## Section {n}: *notes* & <details>"),
            2 => format!(
                "Paragraph {n} has **bold**, _italic_, `inline_code()`, a [link](https://example.com/{n}) \
                 and text that is not ASCII: café, naïve, Привет, 你好, 🚀."
            ),
            3 => format!("- item {n}.1 with `code`\n- item {n}.2 with **bold**\n  - nested {n}.3"),
            4 => format!(
                "```rust\nfn section_{n}() -> u32 {{\n    let x = \"<b>{n}</b>\";\n    x.len() as u32 * {n}\n}}\n```"
            ),
            5 => format!("1. first of {n}\n2. second of {n}\n\n> A quote in block {n}."),
            _ => format!("| col | value |\n|-----|-------|\n| {n} | `{n}*2` |"),
        };
        let sep = if out.is_empty() { 0 } else { 2 };
        if out.len() + sep + block.len() > size {
            break;
        }
        if sep > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&block);
    }
    let sep = if out.is_empty() { 0 } else { 2 };
    let fill = size.saturating_sub(out.len() + sep);
    if fill > 0 {
        if sep > 0 {
            out.push_str("\n\n");
        }
        let mut filler: String = FILLER.chars().cycle().take(fill).collect();
        if filler.ends_with(' ') {
            filler.pop();
            filler.push('.');
        }
        out.push_str(&filler);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prompt_echoes_its_first_line() {
        let script = parse("\n  hello there\nsecond\n").unwrap();
        assert_eq!(script.steps, vec![]);
        assert_eq!(script.answer, Answer::Echo);
        assert_eq!(script.first_line, "  hello there");
    }

    #[test]
    fn directives_run_in_order_and_skip_the_echo_line() {
        let script = parse(
            "  @fake sleep 0.5\nhi\n@fake tool Read {\"file_path\":\"/x\"}\n@fake write a/b.txt x\\ny\n@fake answer done\\n!",
        )
        .unwrap();
        assert_eq!(script.first_line, "hi");
        assert_eq!(script.steps.len(), 3);
        assert_eq!(script.steps[0], Step::Sleep(Duration::from_millis(500)));
        assert_eq!(
            script.steps[2],
            Step::Write {
                path: "a/b.txt".into(),
                content: "x\ny".into()
            }
        );
        assert_eq!(script.answer, Answer::Text("done\n!".into()));
    }

    #[test]
    fn answer_follows_takes_the_rest_verbatim() {
        let script = parse("@fake answer-follows\n# T\n\n@fake crash 3\n```\n").unwrap();
        assert_eq!(
            script.answer,
            Answer::Text("# T\n\n@fake crash 3\n```".into())
        );
        assert!(script.steps.is_empty());
    }

    #[test]
    fn bad_directives_are_errors() {
        assert!(parse("@fake sleeep 1").is_err());
        assert!(parse("@fake sleep x").is_err());
        assert!(parse("@fake tool Bash [1]").is_err());
        assert!(parse("@fakeish is prose").is_ok());
        assert!(parse("@fake mv only-one").is_err());
        assert!(parse("@fake rm").is_err());
        assert!(parse("@fake wait-for").is_err());
        assert_eq!(
            parse("@fake wait-for /tmp/go on").unwrap().steps,
            [Step::WaitFor("/tmp/go on".into())]
        );
        let script = parse("@fake mv a.txt b/c.txt\n@fake rm d.txt").unwrap();
        assert_eq!(
            script.steps,
            [
                Step::Move {
                    from: "a.txt".into(),
                    to: "b/c.txt".into()
                },
                Step::Remove("d.txt".into())
            ]
        );
    }

    #[test]
    fn markdown_has_the_asked_size_and_closed_fences() {
        for size in [0, 50, 300, 1000, 4096, 20000] {
            let md = markdown_of_size(size);
            assert!(
                md.len() <= size && md.len() + 2 >= size,
                "{size}: {}",
                md.len()
            );
            assert_eq!(md.matches("```").count() % 2, 0);
        }
        assert_eq!(markdown_of_size(5000), markdown_of_size(5000));
    }
}
