//! How an agent is started: an adapter (`agents`) builds the command line, the runner launches
//! it on a host. Plain data between the two.

/// The command line of one agent run. The prompt is not part of it: it arrives on stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Program and arguments, each passed to the host as one quoted word.
    pub argv: Vec<String>,
    /// Environment for the agent (non-login SSH sessions pass almost nothing through).
    pub env: Vec<(String, String)>,
}
