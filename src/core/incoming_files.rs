//! Photos and files users send, handed to the agent: each is fetched from the platform and
//! written to the session's workspace on its host, under
//!
//! ```text
//! <workdir>/.switchboard/inbox/<message>/<name>
//! ```
//!
//! and the prompt says where they are. This happens when the prompt is queued, before it is
//! marked processed, so a crash part-way repeats it (the writes are idempotent) and a failure
//! — a file over `defaults.max_file_mb`, a platform that will not hand it over, a host that
//! cannot be reached — is told to the user with nothing queued: they can send it again.
//!
//! `.switchboard/` carries a `.gitignore` of `*`, so the inbox is never committed by the agent
//! nor counted among a turn's changes. Each file is written to a `.part` name, checked for its
//! length, and only then renamed into place: the agent never sees half a file.

use anyhow::{Context, Result};

use super::Core;
use super::replies;
use crate::domain::ids::InboundId;
use crate::domain::inbound::{FileKind, Inbound, IncomingFile};
use crate::runner::shell::{quote, quote_path};
use crate::runner::transport::Transport;
use crate::store::SessionRow;

/// The inbox folder, relative to the workspace.
pub const INBOX: &str = ".switchboard/inbox";

/// The prompt for the agent, or why the message cannot be acted on (said to the user).
pub type Delivery = std::result::Result<String, String>;

/// Stores the files of `event` (if any) in its thread's `session`'s workspace (the default
/// host's, for a thread without one) and returns the prompt that tells the agent where they are.
pub async fn deliver(
    core: &Core,
    id: &InboundId,
    event: &Inbound,
    session: Option<&SessionRow>,
    text: &str,
) -> Result<Delivery> {
    // Audio is transcribed instead ([`voice`](super::voice)).
    let files: Vec<IncomingFile> = event
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Attachment)
        .cloned()
        .collect();
    if files.is_empty() {
        return Ok(Ok(text.to_owned()));
    }
    let limit = core.defaults.max_file_bytes();
    if let Some(file) = files.iter().find(|f| f.size.is_some_and(|s| s > limit)) {
        return Ok(Err(replies::file_too_large(&file.name, limit)));
    }
    let (host_name, workdir) = match session {
        Some(session) => (session.host.clone(), Some(session.workdir.clone())),
        None => (core.defaults.host.clone(), None),
    };
    let host = core
        .hosts
        .get(&host_name)
        .with_context(|| format!("the host {host_name} is not configured"))?;
    let workdir = workdir.unwrap_or_else(|| host.workdir.clone());
    let policy = core.policy(event.platform())?;
    let folder = format!("{INBOX}/{}", message_folder(id));
    let mut paths = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let data = match policy.fetch(file, limit).await {
            Ok(Some(data)) => data,
            Ok(None) => return Ok(Err(replies::file_too_large(&file.name, limit))),
            Err(e) => {
                tracing::warn!(file = %file.name, "fetching a user's file failed: {e:#}");
                return Ok(Err(replies::file_not_fetched(
                    &file.name,
                    &format!("{e:#}"),
                )));
            }
        };
        let path = format!("{folder}/{}", file_name(file, index, &files));
        if let Err(e) = write(&*host.transport, &workdir, &path, &data).await {
            tracing::warn!(host = %host.name, path, "storing a user's file failed: {e}");
            return Ok(Err(replies::file_not_stored(&file.name, &host.name, &e)));
        }
        paths.push(path);
    }
    Ok(Ok(replies::prompt_with_files(text, &paths)))
}

/// The folder of one message's files: the random tail of its id (the head is a timestamp).
fn message_folder(id: &InboundId) -> &str {
    let id = id.as_str();
    &id[id.len().saturating_sub(12)..]
}

/// A file's name made safe as one path component: letters, digits, `.`, `-` and `_` kept, the
/// rest `_`, no leading dot, at most 100 characters; numbered when the message has several
/// files of the same name.
fn file_name(file: &IncomingFile, index: usize, all: &[IncomingFile]) -> String {
    let mut name: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_owned();
    if name.len() > 100 {
        name = name[name.len() - 100..].to_owned();
    }
    if name.is_empty() {
        name = "file".to_owned();
    }
    let repeated = all.iter().filter(|f| f.name == file.name).count() > 1;
    if repeated {
        name = format!("{}-{name}", index + 1);
    }
    name
}

/// Writes `data` to `path` (relative to `workdir`) on the host, whole or not at all.
async fn write(host: &dyn Transport, workdir: &str, path: &str, data: &[u8]) -> Result<(), String> {
    let script = format!(
        "mkdir -p {workdir} && cd {workdir} || exit 3\n\
         mkdir -p .switchboard && {{ [ -f .switchboard/.gitignore ] || echo '*' > .switchboard/.gitignore; }} || exit 3\n\
         f={path}\n\
         mkdir -p \"${{f%/*}}\" && cat > \"$f.part\" || exit 3\n\
         [ \"$(wc -c < \"$f.part\")\" -eq {length} ] || {{ rm -f \"$f.part\"; echo 'the file arrived incomplete' >&2; exit 4; }}\n\
         mv \"$f.part\" \"$f\"\n",
        workdir = quote_path(workdir),
        path = quote(path),
        length = data.len(),
    );
    let out = host.exec(&script, data).await.map_err(|e| e.to_string())?;
    if out.success() {
        Ok(())
    } else {
        Err(out.stderr_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> IncomingFile {
        IncomingFile {
            name: name.to_owned(),
            size: None,
            source: String::new(),
            kind: FileKind::Attachment,
        }
    }

    #[test]
    fn names_are_one_safe_path_component() {
        let one = |name: &str| file_name(&file(name), 0, &[file(name)]);
        assert_eq!(one("report 2026 (final).pdf"), "report_2026__final_.pdf");
        assert_eq!(one("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(one(".bashrc"), "bashrc");
        assert_eq!(one("..."), "file");
        assert_eq!(one("ünïcode.txt"), "_n_code.txt");
        assert_eq!(one(&format!("{}.log", "a".repeat(200))).len(), 100);
        let twins = [file("photo.jpg"), file("photo.jpg"), file("a.txt")];
        let names: Vec<String> = twins
            .iter()
            .enumerate()
            .map(|(i, f)| file_name(f, i, &twins))
            .collect();
        assert_eq!(names, ["1-photo.jpg", "2-photo.jpg", "a.txt"]);
    }

    #[test]
    fn message_folders_are_the_random_tail_of_the_id() {
        let id = InboundId::from_string("01a204ee-d43b-7693-a672-932f7c15ddc9".to_owned());
        assert_eq!(message_folder(&id), "932f7c15ddc9");
    }
}
