//! Running turns on workspace hosts: transports (local, SSH), the host registry, the turn
//! protocol on a host, and health probes.

pub mod agent_env;
pub mod capture;
pub mod changes;
pub mod cleanup;
pub mod git;
pub mod health;
pub mod hosts;
pub mod local;
pub mod output_lines;
pub mod remote_turn;
pub mod scratch;
mod shared_clone;
pub mod shell;
pub mod ssh;
#[cfg(test)]
mod test_git;
pub mod transport;
pub mod workspace_disk;
pub mod worktree;
