//! Random refusals, for chaos tests: a share of the bot's posts and edits is refused before
//! it takes effect — 429 with a `retry_after` of one or two seconds (opening that window, as any
//! 429 does), or a server error (500, 502, 503 or 504, as Telegram's front answers when
//! overloaded).
//! Nothing is delivered by a refused call: these are plain failures, not lost answers (for
//! those see `fail_after_sending`).
//!
//! The draws are seeded, so a seed gives the same sequence of decisions; which call meets which
//! decision still depends on the order the bot makes its calls in.

use super::methods::Method;
use crate::support::draws::Draws;

/// How often calls are refused, and the seed of the draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomFaults {
    pub seed: u64,
    /// Share of counted posts and edits answered 429 (0.0–1.0).
    pub retry_after_share: f64,
    /// Share answered 500, 502, 503 or 504.
    pub server_error_share: f64,
}

/// What a call meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// 429 with this many seconds.
    RetryAfter(u32),
    /// This 5xx status.
    ServerError(u16),
}

/// The draws for one fake server.
#[derive(Debug)]
pub(super) struct Faults {
    config: RandomFaults,
    draws: Draws,
}

impl Faults {
    pub fn new(config: RandomFaults) -> Self {
        Self {
            config,
            draws: Draws::new(config.seed),
        }
    }

    /// The fault a counted call of `method` meets, if any: only posts and text edits are
    /// refused.
    pub fn roll(&mut self, method: Method) -> Option<Fault> {
        if !(method.posts() || method == Method::EditMessageText) {
            return None;
        }
        let draw = self.draws.unit();
        let RandomFaults {
            retry_after_share,
            server_error_share,
            ..
        } = self.config;
        if draw < retry_after_share {
            Some(Fault::RetryAfter(1 + self.draws.below(2) as u32))
        } else if draw < retry_after_share + server_error_share {
            Some(Fault::ServerError(
                [500, 502, 503, 504][self.draws.below(4) as usize],
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_kept_and_a_seed_repeats_its_draws() {
        let config = RandomFaults {
            seed: 42,
            retry_after_share: 0.15,
            server_error_share: 0.05,
        };
        let draws = |n| {
            let mut faults = Faults::new(config);
            (0..n)
                .map(|_| faults.roll(Method::SendMessage))
                .collect::<Vec<_>>()
        };
        let all = draws(10_000);
        assert_eq!(all, draws(10_000));
        let limited = all
            .iter()
            .filter(|f| matches!(f, Some(Fault::RetryAfter(1 | 2))))
            .count();
        let failed = all
            .iter()
            .filter(|f| matches!(f, Some(Fault::ServerError(500 | 502 | 503 | 504))))
            .count();
        assert!((1300..1700).contains(&limited), "{limited} 429s");
        assert!((350..650).contains(&failed), "{failed} 5xx");
        assert_eq!(Faults::new(config).roll(Method::GetMe), None);
    }
}
