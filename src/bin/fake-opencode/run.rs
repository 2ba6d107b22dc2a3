//! Runs a parsed script as OpenCode prints it: steps of `step_start`, texts and finished tool
//! calls, `step_finish` (`tool-calls`, or `stop` for the answer, exit 0) — or one `error` line
//! and exit 1 when the model API fails.
//!
//! Signals: the real CLI has no handler for SIGINT or SIGTERM (measured on 1.18.33 waiting on
//! the model API: it dies of the signal and prints nothing more), so this fake installs none and
//! waits with plain sleeps: any signal kills it as it kills the real one. A `sleep` tool's child
//! is in the same process group, as the real CLI's shell tool is, and dies with it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::lines::{self, Ids, ToolEnd};
use crate::record::print_raw;
use crate::script::{self, Answer, Script, Step, WAIT_FOR_LIMIT, WAIT_FOR_POLL};
use crate::store;
use crate::transcript::Transcript;
use crate::tree::Node;
use crate::work;

/// Input tokens of a step: the system prompt, the prompt, earlier turns.
const BASE_INPUT_TOKENS: u64 = 100;
const TOKENS_PER_EARLIER_TURN: u64 = 100;

/// The process exit code a run ended with.
pub struct Exit(pub i32);

type Flow<T = ()> = Result<T, Exit>;

/// Everything fixed for one run.
pub struct Config {
    pub session_id: String,
    pub cwd: PathBuf,
    pub prompt_len: usize,
    /// This run's 1-based turn number within the session.
    pub turn: u64,
}

pub struct Runner {
    cfg: Config,
    session: Transcript,
    /// The message of the step under way, if one is.
    step: Option<String>,
    /// Characters the model wrote in the step under way.
    step_chars: usize,
    calls: u64,
}

impl Runner {
    pub fn new(cfg: Config, session: Transcript) -> Runner {
        Runner {
            cfg,
            session,
            step: None,
            step_chars: 0,
            calls: 0,
        }
    }

    /// Runs the steps and answers; returns the exit code.
    pub fn run(mut self, script: Script) -> i32 {
        let Err(Exit(code)) = self.run_steps(script);
        code
    }

    fn run_steps(&mut self, script: Script) -> Flow<std::convert::Infallible> {
        for step in script.steps {
            self.step(step)?;
        }
        let text = match script.answer {
            Answer::Echo => format!("Echo #{}: {}", self.cfg.turn, script.first_line),
            Answer::Text(text) => text,
            Answer::Bytes(size) => script::markdown_of_size(size),
        };
        self.text(&text);
        self.finish_step("stop");
        Err(Exit(0))
    }

    fn step(&mut self, step: Step) -> Flow {
        let cwd = self.cfg.cwd.clone();
        match step {
            Step::Sleep(duration) => std::thread::sleep(duration),
            Step::WaitFor(path) => wait_for(&cwd.join(path))?,
            Step::ToolSleep { arg, duration } => {
                // The model's answer (the call) is under way before the tool runs.
                self.ids();
                sleep_in_tool(&arg, duration, &cwd);
                self.bash(&format!("sleep {arg}"), Ok(String::new()));
            }
            Step::Tool { name, input } => {
                let title = match input.at(&["command"]) {
                    Some(Node::Raw(raw)) => serde_json::from_str(raw).unwrap_or_default(),
                    _ => name.clone(),
                };
                let end = match name.as_str() {
                    "bash" => ToolEnd::Bash {
                        output: "",
                        exit: 0,
                    },
                    _ => ToolEnd::Other { output: "" },
                };
                self.tool(&name, input, &title, end);
            }
            Step::Write { path, content } => {
                let target = cwd.join(&path);
                let existed = target.exists();
                match work::write_file(&target, content.as_bytes()) {
                    Ok(()) => {
                        let absolute = target.to_string_lossy();
                        let input = Node::obj([
                            ("content", content.as_str().into()),
                            ("filePath", absolute.as_ref().into()),
                        ]);
                        let end = ToolEnd::Write {
                            path: &absolute,
                            existed,
                        };
                        self.tool("write", input, &path, end);
                    }
                    Err(e) => self.bash(&format!("cat > {path}"), Err(e.to_string())),
                }
            }
            Step::Commit(message) => {
                let command = format!("git add -A && git commit -m {message:?}");
                let done = match work::commit(&cwd, "Fake OpenCode", &message) {
                    Ok(out) if out.status.success() => {
                        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
                    }
                    Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
                    Err(e) => Err(e.to_string()),
                };
                self.bash(&command, done);
            }
            Step::Move { from, to } => {
                let moved = std::fs::rename(cwd.join(&from), cwd.join(&to));
                self.bash(&format!("mv {from} {to}"), done(moved));
            }
            Step::Remove(path) => {
                let removed = std::fs::remove_file(cwd.join(&path));
                self.bash(&format!("rm {path}"), done(removed));
            }
            Step::WriteBytes { path, bytes } => {
                let written = work::write_file(&cwd.join(&path), &bytes);
                self.bash(&format!("base64 -d > {path}"), done(written));
            }
            Step::Text(text) => self.text(&text),
            Step::ApiError(status) => return Err(self.api_error(Some(status))),
            Step::ConnectionRefused => return Err(self.api_error(None)),
            Step::MaxTurns => {
                eprintln!("fake-opencode: `@fake max-turns` has no OpenCode equivalent");
                return Err(Exit(2));
            }
            // A `deny` rule refused the call: it fails, and the agent goes on.
            Step::PermissionDenied { tool, input } => {
                self.tool(&tool, input, &tool, ToolEnd::Denied);
            }
            Step::Stderr(text) => eprintln!("{text}"),
            Step::Crash(code) => return Err(Exit(code)),
        }
        Ok(())
    }

    /// The ids of a new part of the step under way, starting a step (its `step_start` line)
    /// when none is.
    fn ids(&mut self) -> (String, String) {
        let message = match &self.step {
            Some(message) => message.clone(),
            None => {
                let message = format!("msg_{}", id_tail());
                self.step = Some(message.clone());
                self.step_chars = 0;
                let part = self.next_part();
                let ids = self.stamp(&message, &part);
                self.emit(lines::step_start(&ids));
                message
            }
        };
        (message, self.next_part())
    }

    fn stamp<'a>(&'a self, message: &'a str, part: &'a str) -> Ids<'a> {
        Ids {
            session: &self.cfg.session_id,
            message,
            part,
            now_ms: now_ms(),
        }
    }

    fn next_part(&self) -> String {
        format!("prt_{}", id_tail())
    }

    fn text(&mut self, text: &str) {
        self.step_chars += text.chars().count();
        let (message, part) = self.ids();
        let line = lines::text(&self.stamp(&message, &part), text);
        self.emit(line);
    }

    /// A finished tool call, and the end of its step (the model called a tool).
    fn tool(&mut self, name: &str, input: Node, title: &str, end: ToolEnd<'_>) {
        self.calls += 1;
        let call = format!("call_{}", self.calls);
        let (message, part) = self.ids();
        let line = lines::tool_use(&self.stamp(&message, &part), &call, name, input, title, end);
        self.emit(line);
        self.finish_step("tool-calls");
    }

    /// The shell tool ran `command`: OpenCode reports a failing command as a completed call
    /// with its exit code.
    fn bash(&mut self, command: &str, done: Result<String, String>) {
        let (output, exit) = match &done {
            Ok(output) => (output.as_str(), 0),
            Err(error) => (error.as_str(), 1),
        };
        let input = Node::obj([
            ("command", command.into()),
            ("description", "Run a command".into()),
        ]);
        self.tool("bash", input, command, ToolEnd::Bash { output, exit });
    }

    fn finish_step(&mut self, reason: &str) {
        let Some(message) = self.step.take() else {
            return;
        };
        let input = BASE_INPUT_TOKENS
            + self.cfg.prompt_len as u64 / 4
            + TOKENS_PER_EARLIER_TURN * (self.cfg.turn - 1);
        let output = 1 + self.step_chars as u64 / 4;
        let part = self.next_part();
        let line = lines::step_finish(&self.stamp(&message, &part), reason, input, output);
        self.emit(line);
    }

    fn api_error(&mut self, status: Option<u16>) -> Exit {
        let line = lines::api_error(&self.cfg.session_id, now_ms(), status);
        self.emit(line);
        Exit(1)
    }

    /// Prints a line and keeps it with the session.
    fn emit(&mut self, node: Node) {
        let mut line = node.to_json();
        self.session.append(&line);
        line.push('\n');
        print_raw(line.as_bytes());
    }
}

fn done(result: std::io::Result<()>) -> Result<String, String> {
    result.map(|()| String::new()).map_err(|e| e.to_string())
}

/// Waits, as if on the model API, until `path` exists; after [`WAIT_FOR_LIMIT`] the run fails
/// loudly (exit 3).
fn wait_for(path: &Path) -> Flow {
    let started = Instant::now();
    while !path.exists() {
        if started.elapsed() > WAIT_FOR_LIMIT {
            eprintln!("fake-opencode: {} never appeared", path.display());
            return Err(Exit(3));
        }
        std::thread::sleep(WAIT_FOR_POLL);
    }
    Ok(())
}

/// A shell tool running `sleep ARG` for `duration`: a real child, so the process tree looks like
/// a running tool.
fn sleep_in_tool(arg: &str, duration: Duration, cwd: &Path) {
    let child = Command::new("sleep")
        .arg(arg)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    std::thread::sleep(duration);
    if let Ok(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The 26 characters after an id's prefix, shaped like the real ones (as a session id's).
fn id_tail() -> String {
    store::new_id()["ses_".len()..].to_owned()
}
