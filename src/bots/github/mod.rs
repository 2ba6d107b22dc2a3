//! GitHub as a front end, as a GitHub App: `@switchboard` in issues and pull requests runs the
//! agent on a checkout of the pull request's head and answers in the thread; pull requests of
//! the configured dependency bots get a dependency review.
//!
//! The webhook ([`webhook`]) checks the signature, stores the delivery and answers at once;
//! the [`frontend`] decides (write access, exact bot identities), gathers the context and the
//! checkout for the agent and shapes how turns end; the [`outlet`] writes comments, replies,
//! reactions and reviews. [`client`] is the REST client, [`app_auth`] the App's JWT and tokens.

pub mod app_auth;
pub mod client;
pub mod deps;
pub mod payload;
pub mod translate;
