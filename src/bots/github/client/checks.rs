//! How a commit's checks ended, for telling a thread about its pull request's CI.
//!
//! Read from the check runs of the commit (`GET /repos/{o}/{r}/commits/{ref}/check-runs`,
//! GitHub's default `filter=latest`: a re-run replaces the run it re-ran). A run passes when it
//! ends `success`, `neutral` or `skipped`, as GitHub's merge box counts them; any other ending
//! (`failure`, `timed_out`, `cancelled`, `action_required`, `startup_failure`, `stale`, one GitHub
//! adds later) is a failing check the thread is told about, with a link to its page.

use reqwest::Method;
use serde::Deserialize;

use super::{ApiError, GitHubClient, MAX_PAGES, decode};

/// Endings of a completed check run that count as passed.
const PASSING: &[&str] = &["success", "neutral", "skipped"];

/// The check runs of one commit, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksSummary {
    /// How many check runs the commit has (none yet: CI has not started, or there is none).
    pub total: usize,
    /// Names of the runs not completed yet (queued, in progress, waiting).
    pub pending: Vec<String>,
    /// The completed runs that did not pass, in GitHub's order.
    pub failing: Vec<FailingCheck>,
}

impl ChecksSummary {
    /// Every run has ended (vacuously so when there is none: see [`Self::total`]).
    pub fn all_completed(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A completed check run that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingCheck {
    pub name: String,
    /// GitHub's word for how it ended: `failure`, `timed_out`, `cancelled`, …
    pub conclusion: String,
    /// Where to read about it: the CI's own page (`details_url`), else the run on GitHub.
    pub url: Option<String>,
}

/// A page of `GET …/commits/{ref}/check-runs`.
#[derive(Deserialize)]
struct CheckRunPage {
    total_count: usize,
    check_runs: Vec<CheckRun>,
}

#[derive(Deserialize)]
struct CheckRun {
    name: String,
    /// `queued`, `in_progress`, `completed`, and for Actions `waiting`, `requested`, `pending`.
    status: String,
    /// `null` until completed.
    conclusion: Option<String>,
    html_url: Option<String>,
    details_url: Option<String>,
}

impl GitHubClient {
    /// The check runs of `sha` (a commit, or a branch name) in `repo`, summed up.
    pub async fn checks_for(&self, repo: &str, sha: &str) -> Result<ChecksSummary, ApiError> {
        let path = format!("/repos/{repo}/commits/{sha}/check-runs");
        let mut runs = Vec::new();
        for page in 1..=MAX_PAGES {
            let request = self
                .request(repo, Method::GET, &path)
                .await?
                .query(&[("per_page", "100"), ("page", &page.to_string())]);
            let answer: CheckRunPage = decode(self.send(request).await?).await?;
            let last = answer.check_runs.len() < 100;
            runs.extend(answer.check_runs);
            if last || runs.len() >= answer.total_count {
                break;
            }
        }
        Ok(summarize(runs))
    }
}

fn summarize(runs: Vec<CheckRun>) -> ChecksSummary {
    let mut summary = ChecksSummary {
        total: runs.len(),
        ..ChecksSummary::default()
    };
    for run in runs {
        if run.status != "completed" {
            summary.pending.push(run.name);
            continue;
        }
        let conclusion = run.conclusion.unwrap_or_default();
        if !PASSING.contains(&conclusion.as_str()) {
            summary.failing.push(FailingCheck {
                name: run.name,
                conclusion,
                url: run.details_url.or(run.html_url),
            });
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, status: &str, conclusion: Option<&str>) -> CheckRun {
        CheckRun {
            name: name.to_owned(),
            status: status.to_owned(),
            conclusion: conclusion.map(str::to_owned),
            html_url: Some(format!("https://github.com/o/r/runs/{name}")),
            details_url: None,
        }
    }

    #[test]
    fn passing_endings_are_not_failures_and_unfinished_runs_are_pending() {
        let summary = summarize(vec![
            run("build", "completed", Some("success")),
            run("lint", "completed", Some("neutral")),
            run("deploy", "completed", Some("skipped")),
            run("test", "completed", Some("failure")),
            run("slow", "completed", Some("timed_out")),
            run("e2e", "in_progress", None),
            run("docs", "waiting", None),
        ]);
        assert_eq!(summary.total, 7);
        assert_eq!(summary.pending, ["e2e", "docs"]);
        assert!(!summary.all_completed());
        let failing: Vec<(&str, &str)> = summary
            .failing
            .iter()
            .map(|f| (f.name.as_str(), f.conclusion.as_str()))
            .collect();
        assert_eq!(failing, [("test", "failure"), ("slow", "timed_out")]);
        assert_eq!(
            summary.failing[0].url.as_deref(),
            Some("https://github.com/o/r/runs/test")
        );
    }

    #[test]
    fn a_run_page_reads_githubs_shape() {
        let page: CheckRunPage = serde_json::from_str(
            r#"{"total_count": 1, "check_runs": [{"id": 4, "name": "test", "status": "completed",
                "conclusion": "failure", "html_url": "https://github.com/o/r/runs/4",
                "details_url": "https://ci.example/build/9", "head_sha": "abc",
                "output": {"title": null, "summary": null}}]}"#,
        )
        .unwrap();
        let summary = summarize(page.check_runs);
        assert_eq!(
            summary.failing,
            [FailingCheck {
                name: "test".into(),
                conclusion: "failure".into(),
                url: Some("https://ci.example/build/9".into()),
            }]
        );
        assert!(summary.all_completed());
    }
}
