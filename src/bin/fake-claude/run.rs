//! Runs a parsed script: prints the lines, sleeps, writes files and reacts to signals.
//!
//! The model is the real CLI's loop: each "API call" produces one assistant message whose
//! content blocks are printed one line each (text blocks, then at most one tool_use that ends
//! the message); a tool result follows, and the next block starts a new call. `--max-turns N`
//! is checked where the real CLI checks it, before a call once N tools have run, so N tool uses
//! followed by anything at all end with `error_max_turns` exactly like `max-turns-1.stream.jsonl`.
//!
//! Signals are where the real CLI is easiest to get wrong, so they follow the measurements:
//! SIGINT while "waiting on the API" prints `[Request interrupted by user]` and exits 0 with no
//! result; SIGINT during a tool prints the rejection and an `error_during_execution` result
//! (exit 0); SIGTERM/SIGHUP exit 143/129 without a result, killing a running tool first (the
//! killed-task lines of `sigterm-during-tool.stream.jsonl`; SIGHUP was only measured for its
//! exit code, so it prints the same lines, and a stdout that went away with the pty is fine). A
//! signal is noticed while sleeping and before every line is printed, so one that lands while
//! the fake is busy printing is never lost; the tool_use line is the point after which a signal
//! counts as "during the tool", which is what a test sees before it sends one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::cli::Format;
use crate::lines::{self, Block, Ctx, Event, Message, Outcome, Stats, ToolEnd};
use crate::record::print_raw;
use crate::script::{self, Answer, Script, Step};
use crate::session::{History, ModelTotals};
use crate::signals::{Sig, Signals, Unwaited};
use crate::transcript::Transcript;
use crate::tree::Node;
use crate::work;

/// The process exit code a run ended with.
pub struct Exit(pub i32);

type Flow<T = ()> = Result<T, Exit>;

/// Everything fixed for one run.
pub struct Config {
    pub ctx: Ctx,
    pub format: Format,
    pub partial: bool,
    pub line_delay: Duration,
    pub max_turns: Option<u64>,
    pub started: Instant,
    pub cwd: PathBuf,
    pub prompt_len: usize,
    /// This run's 1-based turn number within the session.
    pub turn: u64,
    pub history: History,
}

struct Call {
    message: Message,
    output_tokens: u64,
}

pub struct Runner {
    cfg: Config,
    signals: Signals,
    transcript: Transcript,
    lines_written: u64,
    calls: Vec<Call>,
    /// The message being printed and its next block index.
    open: Option<u64>,
    tool_uses: u64,
    denials: Vec<Node>,
    ttft_ms: Option<u64>,
    tool_time: Duration,
}

/// Input tokens of a call: the system prompt and tools, the prompt, earlier turns, this turn.
const BASE_INPUT_TOKENS: u64 = 4300;
const TOKENS_PER_EARLIER_TURN: u64 = 60;
const TOKENS_PER_CALL: u64 = 95;
/// Prices in micro-USD per token, as the samples' costs work out ($4/M in, $20/M out).
const INPUT_MICRO_USD: u64 = 4;
const OUTPUT_MICRO_USD: u64 = 20;
const DELTA_CHARS: usize = 64;

impl Runner {
    pub fn new(cfg: Config, signals: Signals, transcript: Transcript) -> Runner {
        Runner {
            cfg,
            signals,
            transcript,
            lines_written: 0,
            calls: Vec::new(),
            open: None,
            tool_uses: 0,
            denials: Vec::new(),
            ttft_ms: None,
            tool_time: Duration::ZERO,
        }
    }

    /// Prints `init`, runs the steps, answers; returns the exit code.
    pub async fn run(mut self, init: Node, script: Script) -> i32 {
        let Err(Exit(code)) = self.run_steps(init, script).await;
        code
    }

    async fn run_steps(&mut self, init: Node, script: Script) -> Flow<std::convert::Infallible> {
        self.emit(init).await?;
        for step in script.steps {
            self.step(step).await?;
        }
        let text = match script.answer {
            Answer::Echo => format!("Echo #{}: {}", self.cfg.turn, script.first_line),
            Answer::Text(text) => text,
            Answer::Bytes(size) => script::markdown_of_size(size),
        };
        self.block(Block::Text(&text)).await?;
        self.close_message("end_turn").await?;
        Err(self.finish(Outcome::Success(&text)).await)
    }

    async fn step(&mut self, step: Step) -> Flow {
        match step {
            Step::Sleep(duration) => self.pause(duration).await,
            Step::WaitFor(path) => self.wait_for(&path).await,
            Step::ToolSleep { arg, duration } => self.tool_sleep(&arg, duration).await,
            Step::Tool { name, input } => {
                let id = self.tool_use(&name, &input).await?;
                self.emit(lines::tool_done(&self.cfg.ctx, &id, &name)).await
            }
            Step::Write { path, content } => self.write_file(&path, &content).await,
            Step::Commit(message) => self.commit(&message).await,
            Step::Move { from, to } => {
                let cwd = self.cfg.cwd.clone();
                let command = format!("mv {from} {to}");
                let moved = std::fs::rename(cwd.join(&from), cwd.join(&to));
                self.file_operation(&command, moved).await
            }
            Step::WriteBytes { path, bytes } => {
                let written = work::write_file(&self.cfg.cwd.join(&path), &bytes);
                self.file_operation(&format!("base64 -d > {path}"), written)
                    .await
            }
            Step::Remove(path) => {
                let removed = std::fs::remove_file(self.cfg.cwd.join(&path));
                self.file_operation(&format!("rm {path}"), removed).await
            }
            Step::Text(text) => self.block(Block::Text(&text)).await,
            Step::ApiError(status) => {
                self.check_turn_limit().await?;
                self.open = None;
                for node in lines::api_retries(&self.cfg.ctx, Some(status)) {
                    self.emit(node).await?;
                }
                self.emit(lines::api_error_assistant(&self.cfg.ctx, status))
                    .await?;
                Err(self.finish(Outcome::ApiError(status)).await)
            }
            Step::ConnectionRefused => {
                self.check_turn_limit().await?;
                self.open = None;
                for node in lines::api_retries(&self.cfg.ctx, None) {
                    self.emit(node).await?;
                }
                self.emit(lines::connection_refused_assistant(&self.cfg.ctx))
                    .await?;
                Err(self.finish(Outcome::ConnectionRefused).await)
            }
            Step::MaxTurns => {
                if self.tool_uses == 0 {
                    // Make the run look like the capture: a command, its result, then the stop.
                    self.block(Block::Text("Running a command.")).await?;
                    let input = Node::obj([
                        ("command", "true".into()),
                        ("description", "Run a command".into()),
                    ]);
                    let id = self.tool_use("Bash", &input).await?;
                    self.emit(lines::tool_done(&self.cfg.ctx, &id, "Bash"))
                        .await?;
                }
                let limit = self.cfg.max_turns.unwrap_or(self.tool_uses);
                Err(self.finish(Outcome::MaxTurns(limit)).await)
            }
            Step::PermissionDenied { tool, input } => {
                let id = self.tool_use(&tool, &input).await?;
                self.emit(lines::permission_denied(&self.cfg.ctx, &tool, &id))
                    .await?;
                let message = lines::denial_message(&tool);
                let output = Node::from(format!("Error: {message}"));
                let node =
                    lines::tool_result(&self.cfg.ctx, &id, &message, ToolEnd::Denied, output);
                self.emit(node).await?;
                self.denials.push(lines::denial(&tool, &id, &input));
                Ok(())
            }
            Step::Stderr(text) => {
                eprintln!("{text}");
                Ok(())
            }
            Step::Crash(code) => Err(Exit(code)),
        }
    }

    /// Writes a line to the transcript and, in stream-json, to stdout, flushed at once: tests
    /// follow the output while it grows. A closed stdout is ignored, as a dropped SSH client is.
    fn write(&mut self, node: &Node) {
        let mut line = node.to_json();
        self.transcript.append(&line);
        self.lines_written += 1;
        if self.cfg.format == Format::StreamJson {
            line.push('\n');
            print_raw(line.as_bytes());
        }
    }

    /// Prints a line after the configured delay, unless a signal came first.
    async fn emit(&mut self, node: Node) -> Flow {
        if self.lines_written > 0 && !self.cfg.line_delay.is_zero() {
            self.pause(self.cfg.line_delay).await?;
        }
        if let Some(sig) = self.signals.pending() {
            return Err(self.interrupted_outside_tool(sig));
        }
        self.write(&node);
        Ok(())
    }

    /// Waits as if on the API.
    async fn pause(&mut self, duration: Duration) -> Flow {
        match self.signals.sleep(duration).await {
            Some(sig) => Err(self.interrupted_outside_tool(sig)),
            None => Ok(()),
        }
    }

    /// Waits like [`Runner::pause`] until `path` (relative to the cwd) exists; gives up, failing
    /// the run loudly, after two minutes.
    async fn wait_for(&mut self, path: &str) -> Flow {
        match self.signals.wait_for(&self.cfg.cwd.join(path)).await {
            Ok(()) => Ok(()),
            Err(Unwaited::Signal(sig)) => Err(self.interrupted_outside_tool(sig)),
            Err(Unwaited::GaveUp) => Err(Exit(3)),
        }
    }

    fn interrupted_outside_tool(&mut self, sig: Sig) -> Exit {
        match sig {
            Sig::Int => {
                let node = lines::interrupted(&self.cfg.ctx);
                self.write(&node);
                Exit(0)
            }
            Sig::Term => Exit(143),
            Sig::Hup => Exit(129),
        }
    }

    async fn check_turn_limit(&mut self) -> Flow {
        match self.cfg.max_turns {
            Some(limit) if self.tool_uses >= limit => {
                Err(self.finish(Outcome::MaxTurns(limit)).await)
            }
            _ => Ok(()),
        }
    }

    /// Starts a new API message unless one is being printed.
    async fn open_message(&mut self) -> Flow<u64> {
        if let Some(index) = self.open {
            return Ok(index);
        }
        self.check_turn_limit().await?;
        let cfg = &self.cfg;
        let input_tokens = BASE_INPUT_TOKENS
            + cfg.prompt_len as u64 / 4
            + TOKENS_PER_EARLIER_TURN * (cfg.turn - 1)
            + TOKENS_PER_CALL * self.calls.len() as u64;
        let message = Message {
            id: format!("msg_fake_{}", lines::hex(20)),
            request_id: format!("req_fake_{}", lines::hex(16)),
            input_tokens,
        };
        if self.cfg.partial {
            self.emit(lines::status_requesting(&self.cfg.ctx)).await?;
            let ttft_ms = 20 + self.cfg.started.elapsed().as_millis() as u64;
            let event = Event::MessageStart {
                input_tokens,
                ttft_ms,
            };
            self.emit(lines::stream_event(&self.cfg.ctx, &message, &event))
                .await?;
        }
        self.calls.push(Call {
            message,
            output_tokens: 0,
        });
        self.open = Some(0);
        Ok(0)
    }

    async fn block(&mut self, block: Block<'_>) -> Flow {
        let index = self.open_message().await?;
        self.open = Some(index + 1);
        let call = self.calls.last_mut().expect("open_message pushed a call");
        call.output_tokens += match &block {
            Block::Text(text) => 1 + text.chars().count() as u64 / 4,
            Block::ToolUse { input, .. } => 20 + input.to_json().len() as u64 / 4,
        };
        let ctx = &self.cfg.ctx;
        let message = &self
            .calls
            .last()
            .expect("open_message pushed a call")
            .message;
        let mut nodes = Vec::new();
        if self.cfg.partial {
            nodes.push(lines::stream_event(
                ctx,
                message,
                &Event::BlockStart {
                    index,
                    block: &block,
                },
            ));
            let whole = match &block {
                Block::Text(text) => (*text).to_owned(),
                Block::ToolUse { input, .. } => input.to_json(),
            };
            for chunk in chunks(&whole, DELTA_CHARS) {
                nodes.push(lines::stream_event(
                    ctx,
                    message,
                    &Event::Delta {
                        index,
                        block: &block,
                        chunk,
                    },
                ));
            }
        }
        nodes.push(lines::assistant(ctx, message, &block));
        if self.cfg.partial {
            nodes.push(lines::stream_event(
                ctx,
                message,
                &Event::BlockStop { index },
            ));
        }
        for node in nodes {
            let is_assistant = node.at(&["type"]) == Some(&Node::from("assistant"));
            self.emit(node).await?;
            if is_assistant && self.ttft_ms.is_none() {
                self.ttft_ms = Some(self.cfg.started.elapsed().as_millis() as u64);
            }
        }
        Ok(())
    }

    async fn close_message(&mut self, stop_reason: &str) -> Flow {
        if self.open.take().is_none() || !self.cfg.partial {
            return Ok(());
        }
        let call = self.calls.last().expect("an open message has a call");
        let ctx = &self.cfg.ctx;
        let output_tokens = call.output_tokens;
        let delta = lines::stream_event(
            ctx,
            &call.message,
            &Event::MessageDelta {
                stop_reason,
                output_tokens,
            },
        );
        let stop = lines::stream_event(ctx, &call.message, &Event::MessageStop);
        self.emit(delta).await?;
        self.emit(stop).await
    }

    /// Prints a tool_use block, which ends its message; returns the tool id.
    async fn tool_use(&mut self, name: &str, input: &Node) -> Flow<String> {
        let id = format!("toolu_fake_{}", lines::hex(20));
        self.block(Block::ToolUse {
            id: &id,
            name,
            input,
        })
        .await?;
        self.close_message("tool_use").await?;
        self.tool_uses += 1;
        Ok(id)
    }

    async fn tool_sleep(&mut self, arg: &str, duration: Duration) -> Flow {
        let description = "sleep";
        let input = Node::obj([
            ("command", format!("sleep {arg}").into()),
            ("description", description.into()),
        ]);
        let id = self.tool_use("Bash", &input).await?;
        let started = Instant::now();
        let cwd = self.cfg.cwd.clone();
        let sig = self.signals.sleep_in_tool(arg, duration, &cwd).await;
        self.tool_time += started.elapsed();
        let ctx = &self.cfg.ctx;
        match sig {
            None => self.emit(lines::tool_done(ctx, &id, "Bash")).await,
            Some(Sig::Int) => {
                for node in lines::tool_rejected(ctx, &id) {
                    self.write(&node);
                }
                let result = self.result_node(&Outcome::AbortedTools, Format::StreamJson);
                self.write(&result);
                self.print_final(&Outcome::AbortedTools);
                Err(Exit(0))
            }
            Some(sig) => {
                for node in lines::tool_killed(ctx, &id, description) {
                    self.write(&node);
                }
                Err(Exit(if matches!(sig, Sig::Hup) { 129 } else { 143 }))
            }
        }
    }

    async fn write_file(&mut self, path: &str, content: &str) -> Flow {
        let input = Node::obj([("file_path", path.into()), ("content", content.into())]);
        let id = self.tool_use("Write", &input).await?;
        let target = self.cfg.cwd.join(path);
        let original = std::fs::read_to_string(&target).ok();
        let written = work::write_file(&target, content.as_bytes());
        let ctx = &self.cfg.ctx;
        let node = match written {
            Ok(()) => {
                let message = match original {
                    None => format!("File created successfully at: {path}"),
                    Some(_) => format!("The file {path} has been updated successfully."),
                };
                let output = lines::write_output(path, content, original.as_deref());
                lines::tool_result(ctx, &id, &message, ToolEnd::Ok, output)
            }
            Err(e) => {
                let message = format!("Error writing file: {e}");
                let output = Node::from(format!("Error: {message}"));
                lines::tool_result(ctx, &id, &message, ToolEnd::Failed, output)
            }
        };
        self.emit(node).await
    }

    /// A file operation as the Bash tool reports it: the command, then no output or the error.
    async fn file_operation(&mut self, command: &str, done: std::io::Result<()>) -> Flow {
        let input = Node::obj([("command", command.into()), ("description", command.into())]);
        let id = self.tool_use("Bash", &input).await?;
        let ctx = &self.cfg.ctx;
        let node = match done {
            Ok(()) => lines::tool_result(ctx, &id, "", ToolEnd::Ok, Node::from("")),
            Err(e) => {
                let text = format!("Error: {e}");
                lines::tool_result(ctx, &id, &text, ToolEnd::Failed, Node::from(text.clone()))
            }
        };
        self.emit(node).await
    }

    /// Commits everything in the cwd's repository, like an agent running `git commit` with its
    /// Bash tool (run directly, not through a shell).
    async fn commit(&mut self, message: &str) -> Flow {
        let command = format!("git add -A && git commit -m {message:?}");
        let input = Node::obj([
            ("command", command.as_str().into()),
            ("description", "commit".into()),
        ]);
        let id = self.tool_use("Bash", &input).await?;
        let outcome = work::commit(&self.cfg.cwd, "Fake Claude", message);
        let ctx = &self.cfg.ctx;
        let node = match outcome {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                lines::tool_result(ctx, &id, &text, ToolEnd::Ok, Node::from(text.clone()))
            }
            Ok(out) => {
                let text = format!(
                    "Exit code {}\n{}",
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stderr)
                );
                lines::tool_result(
                    ctx,
                    &id,
                    &text,
                    ToolEnd::Failed,
                    Node::from(format!("Error: {text}")),
                )
            }
            Err(e) => {
                let text = format!("Error: {e}");
                lines::tool_result(ctx, &id, &text, ToolEnd::Failed, Node::from(text.clone()))
            }
        };
        self.emit(node).await
    }

    fn result_node(&self, outcome: &Outcome<'_>, format: Format) -> Node {
        let input_tokens: u64 = self.calls.iter().map(|c| c.message.input_tokens).sum();
        let output_tokens: u64 = self.calls.iter().map(|c| c.output_tokens).sum();
        let run = ModelTotals {
            input_tokens,
            output_tokens,
            cost_micro_usd: INPUT_MICRO_USD * input_tokens + OUTPUT_MICRO_USD * output_tokens,
        };
        let model = self.cfg.ctx.model.as_str();
        let mut session_models = self.cfg.history.models.clone();
        if run != ModelTotals::default() {
            match session_models.iter_mut().find(|(m, _)| m == model) {
                Some((_, totals)) => {
                    totals.input_tokens += run.input_tokens;
                    totals.output_tokens += run.output_tokens;
                    totals.cost_micro_usd += run.cost_micro_usd;
                }
                None => session_models.push((model.to_owned(), run.clone())),
            }
        }
        let duration = self.cfg.started.elapsed();
        let message_ids: Vec<String> = self.calls.iter().map(|c| c.message.id.clone()).collect();
        let stats = Stats {
            duration_ms: duration.as_millis() as u64,
            duration_api_ms: duration.saturating_sub(self.tool_time).as_millis() as u64,
            ttft_ms: self.ttft_ms,
            num_turns: self.tool_uses + 1,
            total_cost_micro_usd: self.cfg.history.total_cost_micro_usd + run.cost_micro_usd,
            run,
            model,
            session_models: &session_models,
            permission_denials: &self.denials,
            message_ids: &message_ids,
        };
        lines::result(&self.cfg.ctx, outcome, &stats, format, self.cfg.partial)
    }

    /// Prints the result (stream-json line, json object or text) and returns the exit code.
    async fn finish(&mut self, outcome: Outcome<'_>) -> Exit {
        let node = self.result_node(&outcome, Format::StreamJson);
        if let Err(exit) = self.emit(node).await {
            return exit;
        }
        self.print_final(&outcome);
        Exit(match outcome {
            Outcome::Success(_) | Outcome::AbortedTools => 0,
            _ => 1,
        })
    }

    /// What `--output-format json|text` print once the run is over.
    fn print_final(&self, outcome: &Outcome<'_>) {
        match self.cfg.format {
            Format::StreamJson => {}
            Format::Json => {
                let mut line = self.result_node(outcome, Format::Json).to_json();
                line.push('\n');
                print_raw(line.as_bytes());
            }
            Format::Text => {
                let node = self.result_node(outcome, Format::Json);
                let text = match node.at(&["result"]).or_else(|| node.at(&["errors", "0"])) {
                    Some(Node::Raw(raw)) => serde_json::from_str::<String>(raw).unwrap_or_default(),
                    _ => String::new(),
                };
                print_raw(format!("{text}\n").as_bytes());
            }
        }
    }
}

/// Splits `text` into pieces of at most `max` chars (none for an empty text).
fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    pieces
}

/// A new session id.
pub fn new_session_id() -> String {
    Uuid::new_v4().to_string()
}
