//! What every HTTP entry point shares before it trusts a request: who sent it ([`client`]), and
//! how its refusal is recorded without letting a flood of forged requests fill the store
//! ([`refusals`]). The webhooks (GitHub, Slack's Events API, Telegram's webhook mode) and the
//! web console's sign-in and CSRF checks all refuse through one [`refusals::Refusals`] each.

pub mod client;
pub mod refusals;
