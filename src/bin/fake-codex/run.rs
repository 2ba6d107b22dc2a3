//! Runs a parsed script as Codex prints it: one item per tool call or message, then
//! `turn.completed` — or `error` + `turn.failed`, exit 1.
//!
//! Signals follow what was measured on the real CLI (0.171.0, waiting on a model API that never
//! answers): SIGINT exits 1, SIGTERM 143, SIGHUP 129, and none prints another line. The same
//! holds while a tool runs (not measured: the real CLI's tool would be killed with it).

use std::path::PathBuf;

use crate::lines;
use crate::record::print_raw;
use crate::script::{self, Answer, Script, Step};
use crate::signals::{Sig, Signals, Unwaited};
use crate::transcript::Transcript;
use crate::tree::Node;
use crate::work;

/// The process exit code a run ended with.
pub struct Exit(pub i32);

type Flow<T = ()> = Result<T, Exit>;

/// Everything fixed for one run.
pub struct Config {
    pub thread_id: String,
    pub cwd: PathBuf,
    pub prompt_len: usize,
    /// This run's 1-based turn number within the thread.
    pub turn: u64,
}

pub struct Runner {
    cfg: Config,
    signals: Signals,
    rollout: Transcript,
    items: u64,
    output_chars: usize,
}

/// Input tokens of a turn: the instructions, the prompt, earlier turns.
const BASE_INPUT_TOKENS: u64 = 100;
const TOKENS_PER_EARLIER_TURN: u64 = 100;

fn exit_of(sig: Sig) -> Exit {
    Exit(match sig {
        Sig::Int => 1,
        Sig::Term => 143,
        Sig::Hup => 129,
    })
}

impl Runner {
    pub fn new(cfg: Config, signals: Signals, rollout: Transcript) -> Runner {
        Runner {
            cfg,
            signals,
            rollout,
            items: 0,
            output_chars: 0,
        }
    }

    /// Prints the thread and turn start, runs the steps, answers; returns the exit code.
    pub async fn run(mut self, script: Script) -> i32 {
        let Err(Exit(code)) = self.run_steps(script).await;
        code
    }

    async fn run_steps(&mut self, script: Script) -> Flow<std::convert::Infallible> {
        self.emit(lines::thread_started(&self.cfg.thread_id))?;
        self.emit(lines::turn_started())?;
        for step in script.steps {
            self.step(step).await?;
        }
        let text = match script.answer {
            Answer::Echo => format!("Echo #{}: {}", self.cfg.turn, script.first_line),
            Answer::Text(text) => text,
            Answer::Bytes(size) => script::markdown_of_size(size),
        };
        self.message(&text)?;
        let input = BASE_INPUT_TOKENS
            + self.cfg.prompt_len as u64 / 4
            + TOKENS_PER_EARLIER_TURN * (self.cfg.turn - 1);
        let output = 1 + self.output_chars as u64 / 4;
        self.emit(lines::turn_completed(input, output))?;
        Err(Exit(0))
    }

    async fn step(&mut self, step: Step) -> Flow {
        let cwd = self.cfg.cwd.clone();
        match step {
            Step::Sleep(duration) => match self.signals.sleep(duration).await {
                Some(sig) => Err(exit_of(sig)),
                None => Ok(()),
            },
            Step::WaitFor(path) => match self.signals.wait_for(&cwd.join(path)).await {
                Ok(()) => Ok(()),
                Err(Unwaited::Signal(sig)) => Err(exit_of(sig)),
                Err(Unwaited::GaveUp) => Err(Exit(3)),
            },
            Step::ToolSleep { arg, duration } => {
                let id = self.started(&format!("sleep {arg}"))?;
                match self.signals.sleep_in_tool(&arg, duration, &cwd).await {
                    Some(sig) => Err(exit_of(sig)),
                    None => self.ended(&id, &format!("sleep {arg}"), Ok(String::new())),
                }
            }
            Step::Tool { name, input } => {
                let command = match input.at(&["command"]) {
                    Some(Node::Raw(raw)) => serde_json::from_str(raw).unwrap_or_default(),
                    _ => format!("{name} {}", input.to_json()),
                };
                self.command(&command, Ok(String::new()))
            }
            Step::Write { path, content } => {
                let target = cwd.join(&path);
                let added = !target.exists();
                match work::write_file(&target, content.as_bytes()) {
                    Ok(()) => {
                        let id = self.next_id();
                        self.emit(lines::file_change(&id, &target.to_string_lossy(), added))
                    }
                    Err(e) => self.command(&format!("apply_patch {path}"), Err(e.to_string())),
                }
            }
            Step::Commit(message) => {
                let command = format!("git add -A && git commit -m {message:?}");
                let id = self.started(&command)?;
                let done = match work::commit(&cwd, "Fake Codex", &message) {
                    Ok(out) if out.status.success() => {
                        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
                    }
                    Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
                    Err(e) => Err(e.to_string()),
                };
                self.ended(&id, &command, done)
            }
            Step::Move { from, to } => {
                let moved = std::fs::rename(cwd.join(&from), cwd.join(&to));
                self.command(
                    &format!("mv {from} {to}"),
                    moved.map(|()| String::new()).map_err(|e| e.to_string()),
                )
            }
            Step::Remove(path) => {
                let removed = std::fs::remove_file(cwd.join(&path));
                self.command(
                    &format!("rm {path}"),
                    removed.map(|()| String::new()).map_err(|e| e.to_string()),
                )
            }
            Step::WriteBytes { path, bytes } => {
                let written = work::write_file(&cwd.join(&path), &bytes);
                self.command(
                    &format!("base64 -d > {path}"),
                    written.map(|()| String::new()).map_err(|e| e.to_string()),
                )
            }
            Step::Text(text) => self.message(&text),
            Step::ApiError(status) => self.api_failure(Some(status)),
            Step::ConnectionRefused => self.api_failure(None),
            Step::MaxTurns => {
                eprintln!("fake-codex: `@fake max-turns` has no Codex equivalent");
                Err(Exit(2))
            }
            // The read-only sandbox refused the command: it fails, and the agent goes on.
            Step::PermissionDenied { tool, .. } => self.command(
                &tool,
                Err("Permission denied (read-only sandbox)".to_owned()),
            ),
            Step::Stderr(text) => {
                eprintln!("{text}");
                Ok(())
            }
            Step::Crash(code) => Err(Exit(code)),
        }
    }

    fn next_id(&mut self) -> String {
        let id = format!("item_{}", self.items);
        self.items += 1;
        id
    }

    /// A command that started and ended at once.
    fn command(&mut self, command: &str, done: Result<String, String>) -> Flow {
        let id = self.started(command)?;
        self.ended(&id, command, done)
    }

    fn started(&mut self, command: &str) -> Flow<String> {
        let id = self.next_id();
        self.emit(lines::command(&id, &shell(command), None))?;
        Ok(id)
    }

    fn ended(&mut self, id: &str, command: &str, done: Result<String, String>) -> Flow {
        let (code, output) = match &done {
            Ok(output) => (0, output.as_str()),
            Err(error) => (1, error.as_str()),
        };
        self.emit(lines::command(id, &shell(command), Some((code, output))))
    }

    fn message(&mut self, text: &str) -> Flow {
        self.output_chars += text.chars().count();
        let id = self.next_id();
        self.emit(lines::agent_message(&id, text))
    }

    fn api_failure(&mut self, status: Option<u16>) -> Flow {
        for node in lines::api_failure(status) {
            self.emit(node)?;
        }
        Err(Exit(1))
    }

    /// Prints a line (and keeps it in the rollout), unless a signal came first.
    fn emit(&mut self, node: Node) -> Flow {
        if let Some(sig) = self.signals.pending() {
            return Err(exit_of(sig));
        }
        let mut line = node.to_json();
        self.rollout.append(&line);
        line.push('\n');
        print_raw(line.as_bytes());
        Ok(())
    }
}

/// A command as Codex reports it: wrapped in the shell that ran it.
fn shell(command: &str) -> String {
    format!("/bin/bash -c '{}'", command.replace('\'', r"'\''"))
}
