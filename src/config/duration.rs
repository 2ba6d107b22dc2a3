//! Durations in the configuration: humantime's syntax (`"30s"`, `"5m"`, `"1h 30m"`).
//!
//! Read here rather than through humantime-serde, whose error says only "expected a duration":
//! a person who wrote `poll_timeout = "30"` learns what is wrong and sees one that works.

use std::time::Duration;

use serde::de::{Deserialize, Deserializer, Error};

/// For `#[serde(with = "duration")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(D::Error::custom)
}

/// For `#[serde(default, with = "duration::optional")]`: a key that may be left out.
pub mod optional {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        super::deserialize(deserializer).map(Some)
    }
}

/// A duration, or an error that says why not and shows how one is written.
pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("{text:?} is not a duration ({e}); write a number and a unit, such as \"30s\", \"5m\" or \"1h 30m\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_duration_is_explained_with_an_example() {
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        for wrong in ["30", "ten minutes", "5 parsecs"] {
            let error = parse(wrong).unwrap_err();
            assert!(
                error.starts_with(&format!("{wrong:?} is not a duration (")),
                "{error}"
            );
            assert!(
                error.ends_with("such as \"30s\", \"5m\" or \"1h 30m\""),
                "{error}"
            );
        }
    }
}
