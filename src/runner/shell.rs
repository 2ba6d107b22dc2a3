//! The one quoting function (DESIGN invariant 5: no shell ever sees user text unquoted).
//!
//! Every value that is interpolated into a command string sent to a host goes through
//! [`quote`] (or [`quote_path`], which keeps `~/` expansion working). The prompt itself never
//! appears in a command line: it travels as stdin bytes into a file.

/// Quotes `s` for POSIX `sh` so that it is passed as exactly one word, byte for byte.
///
/// Uses single quotes, the only quoting in which `sh` interprets nothing; an embedded `'` becomes
/// `'\''`. The empty string becomes `''`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes a path, keeping a leading `~/` (or a bare `~`) relative to the remote `$HOME`.
///
/// `~/work dir` becomes `"$HOME"/'work dir'`; anything else is [`quote`]d as is.
pub fn quote_path(path: &str) -> String {
    if path == "~" {
        "\"$HOME\"".to_owned()
    } else if let Some(rest) = path.strip_prefix("~/") {
        format!("\"$HOME\"/{}", quote(rest))
    } else {
        quote(path)
    }
}

/// The value of the first `NAME value` line of a script's output (`name` given with its
/// trailing space), trimmed: how the scripts here report what they found.
pub fn reported(output: &str, name: &str) -> Option<String> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_owned())
}

/// Joins words into one command line, quoting each.
pub fn join<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    words
        .into_iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Hostile strings: every one must reach the program as exactly one argument, byte-exact.
    const HOSTILE: &[&str] = &[
        "",
        " ",
        "plain",
        "it's",
        "'",
        "''",
        "\"double\"",
        "$(touch /tmp/pwned)",
        "`id`",
        "a; rm -rf /",
        "a && b || c",
        "line1\nline2",
        "tab\there",
        "$HOME ${PATH} $0 $@ $*",
        "back\\slash\\",
        "glob * ? [a-z]",
        "redirect > /dev/null < /etc/passwd 2>&1",
        "pipe | cat",
        "emoji 🚀🔥 and CJK 漢字",
        "rtl \u{202E}evil\u{202C} mark \u{200F}",
        "-n",
        "--flag=value",
        "~",
        "~root",
        "#comment",
        "!history",
    ];

    /// Runs `sh -c 'printf "%s\0" <quoted...>'` and returns the arguments sh saw.
    fn round_trip(words: &[&str]) -> Vec<String> {
        let script = format!("printf '%s\\0' {}", join(words.iter().copied()));
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert!(out.status.success(), "sh failed for {script:?}");
        let mut args: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split('\0')
            .map(str::to_owned)
            .collect();
        args.pop(); // trailing terminator
        args
    }

    #[test]
    fn hostile_strings_reach_the_program_byte_exact() {
        for s in HOSTILE {
            assert_eq!(round_trip(&[s]), vec![s.to_string()], "quoting {s:?}");
        }
        assert_eq!(round_trip(HOSTILE), HOSTILE);
    }

    #[test]
    fn quoting_never_lets_the_shell_run_anything() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pwned");
        let attack = format!("$(touch {m}) `touch {m}`; touch {m}", m = marker.display());
        round_trip(&[&attack]);
        assert!(
            !marker.exists(),
            "the shell executed part of a quoted string"
        );
    }

    #[test]
    fn quote_path_expands_home_only_for_a_leading_tilde() {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf '%s|%s|%s' {} {} {}",
                quote_path("~/a b"),
                quote_path("~"),
                quote_path("/x/~/y")
            ))
            .env("HOME", "/home/u")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "/home/u/a b|/home/u|/x/~/y"
        );
    }
}
