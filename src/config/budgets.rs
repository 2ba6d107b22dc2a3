//! The `[budgets]` section: spending limits checked before a turn starts.
//!
//! The agent reports what each turn cost; Switchboard adds it up per person per day (UTC) and
//! per session, and a turn that finds a limit already reached does not run. A turn that starts
//! under the limit may end above it (its cost is only known at its end); the next one stops.

use anyhow::{Result, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// US dollars one person may spend a day (UTC), over every session and platform of theirs.
    /// Default: no limit.
    #[serde(default)]
    pub user_daily_usd: Option<f64>,
    /// US dollars one session may cost in all; `new` starts a session with a fresh budget.
    /// Default: no limit.
    #[serde(default)]
    pub session_usd: Option<f64>,
}

impl Budgets {
    pub(super) fn validate(&self) -> Result<()> {
        for (key, value) in [
            ("budgets.user_daily_usd", self.user_daily_usd),
            ("budgets.session_usd", self.session_usd),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                bail!("{key} must be a positive amount of dollars, not {v}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_must_be_positive() {
        assert!(Budgets::default().validate().is_ok());
        let ok = Budgets {
            user_daily_usd: Some(5.0),
            session_usd: Some(0.5),
        };
        assert!(ok.validate().is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let budgets = Budgets {
                session_usd: Some(bad),
                ..Budgets::default()
            };
            let err = budgets.validate().unwrap_err().to_string();
            assert!(err.contains("budgets.session_usd"), "{err}");
        }
    }
}
