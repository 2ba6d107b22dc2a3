//! How a commit's checks ended, for telling a thread about its pull request's CI.
//!
//! Read from the check runs of the commit (`GET /repos/{o}/{r}/commits/{ref}/check-runs`,
//! GitHub's default `filter=latest`: a re-run replaces the run it re-ran). A run passes when it
//! ends `success`, `neutral` or `skipped`, as GitHub's merge box counts them; any other ending
//! (`failure`, `timed_out`, `cancelled`, `action_required`, `startup_failure`, `stale`, one GitHub
//! adds later) is a failing check the thread is told about, with a link to its page; what the CI
//! wrote about it (`output`: title, summary, text) is what `/fix_ci` gives the agent.

use reqwest::Method;
use serde::Deserialize;

use super::{ApiError, GitHubClient, MAX_PAGES, decode};
use crate::domain::checks::{CheckOutput, ChecksSummary, FailingCheck};

/// Endings of a completed check run that count as passed.
const PASSING: &[&str] = &["success", "neutral", "skipped"];

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
    /// What the CI reported; GitHub sends the object with `null` parts when it wrote nothing.
    #[serde(default)]
    output: Option<RunOutput>,
}

#[derive(Deserialize)]
struct RunOutput {
    title: Option<String>,
    summary: Option<String>,
    text: Option<String>,
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
                output: run
                    .output
                    .map_or_else(CheckOutput::default, |o| CheckOutput {
                        title: o.title,
                        summary: o.summary,
                        text: o.text,
                    }),
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
            output: None,
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
                "output": {"title": "1 test failed", "summary": null}}]}"#,
        )
        .unwrap();
        let summary = summarize(page.check_runs);
        assert_eq!(
            summary.failing,
            [FailingCheck {
                name: "test".into(),
                conclusion: "failure".into(),
                url: Some("https://ci.example/build/9".into()),
                output: CheckOutput {
                    title: Some("1 test failed".into()),
                    ..CheckOutput::default()
                },
            }]
        );
        assert!(summary.all_completed());
    }
}
