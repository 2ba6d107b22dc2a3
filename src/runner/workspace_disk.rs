//! What sessions' workspaces take on a host's disk, for operators (`switchboard hosts`, the web
//! console's Hosts page): one `du` over the directories made under the host's workdir — each
//! session's scratch directory or worktree (`core::placement`), each GitHub checkout (a pull
//! request's or an issue's, `runner::git`), and each shared clone.

use serde::Serialize;

use super::shell::quote_path;
use super::transport::{Transport, TransportError};

/// One directory under a host's workdir and its disk use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceDisk {
    /// Relative to the host's workdir: `scratch/<session>`, `projects/<p>/ws/<session>`,
    /// `github/<owner>/<repo>/<checkout>` (`pr-7`), `projects/<p>/clone`.
    pub path: String,
    pub kib: u64,
}

impl WorkspaceDisk {
    /// The session whose directory this is (its id, the path's last step), or `None` for a
    /// shared clone or a GitHub checkout (its path names its pull request or issue).
    pub fn session(&self) -> Option<&str> {
        let (parent, last) = self.path.rsplit_once('/')?;
        (parent == "scratch" || parent.ends_with("/ws")).then_some(last)
    }
}

/// The workspaces under `workdir` (absolute or `~/`-relative) and what each takes, largest
/// first.
pub async fn read(
    host: &dyn Transport,
    workdir: &str,
) -> Result<Vec<WorkspaceDisk>, TransportError> {
    let script = format!(
        r#"cd {workdir} 2> /dev/null || exit 0
for d in scratch/* projects/*/ws/* projects/*/clone projects/github/*/*/ws/* projects/github/*/*/clone github/*/*/*; do
  [ -d "$d" ] && du -sk "$d" 2> /dev/null
done
exit 0"#,
        workdir = quote_path(workdir)
    );
    let out = host.exec(&script, b"").await?;
    let mut found: Vec<WorkspaceDisk> = out
        .stdout_text()
        .lines()
        .filter_map(|line| {
            let (kib, path) = line.split_once('\t')?;
            Some(WorkspaceDisk {
                path: path.to_owned(),
                kib: kib.trim().parse().ok()?,
            })
        })
        .collect();
    found.sort_by(|a, b| b.kib.cmp(&a.kib).then(a.path.cmp(&b.path)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::local::LocalTransport;

    #[tokio::test]
    async fn every_sessions_directory_each_checkout_and_each_clone_is_measured() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, bytes: usize| {
            let file = root.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, vec![b'x'; bytes]).unwrap();
        };
        write("scratch/s1/a.bin", 300_000);
        write("projects/web/ws/s2/b.bin", 40_000);
        write("projects/web/clone/objects/pack", 100_000);
        write("projects/github/octo/app/ws/s3/c", 10);
        write("github/octo/app/pr-7/src/lib.rs", 200_000);
        write("elsewhere/not-a-workspace", 10);
        let host = LocalTransport::new("local");
        let found = read(&host, &root.path().display().to_string())
            .await
            .unwrap();
        let paths: Vec<&str> = found.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "scratch/s1",
                "github/octo/app/pr-7",
                "projects/web/clone",
                "projects/web/ws/s2",
                "projects/github/octo/app/ws/s3"
            ]
        );
        assert!(found[0].kib >= 290, "{found:?}");
        let sessions: Vec<Option<&str>> = found.iter().map(WorkspaceDisk::session).collect();
        assert_eq!(sessions, [Some("s1"), None, None, Some("s2"), Some("s3")]);
        let missing = read(&host, &root.path().join("none").display().to_string())
            .await
            .unwrap();
        assert!(missing.is_empty());
    }
}
