//! Text the agent must read but not obey: what people other than the requester wrote (a pull
//! request's description and comments on GitHub, a thread's earlier messages on Slack).
//!
//! Such text goes into the prompt inside blocks whose tag carries a random nonce, and the
//! prompt tells the agent that text inside those blocks is information, not instructions. The
//! nonce is removed from the text, so nothing inside a block can close it early and pose as
//! the bot's own words.

use std::fmt::Write as _;

/// Blocks of untrusted text in a prompt, all with one tag.
pub struct Fence {
    tag: String,
}

impl Fence {
    /// A fence whose tag carries `nonce` (see [`nonce`]).
    pub fn new(nonce: &str) -> Fence {
        Fence {
            tag: format!("untrusted-{nonce}"),
        }
    }

    /// The blocks' tag, for the sentence that tells the agent what they are.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Appends `text` from `source` to `out` in a block it cannot close. A NUL in it (a pasted
    /// binary, say) is shown as `␀`: no database text column holds NUL, and the block is
    /// information only.
    pub fn block(&self, out: &mut String, source: &str, text: &str) {
        let text = text.replace(&self.tag, "").replace('\0', "\u{2400}");
        let _ = write!(
            out,
            "<{tag} source=\"{source}\">\n{text}\n</{tag}>\n\n",
            tag = self.tag,
            source = source.replace('"', "'").replace(&self.tag, ""),
        );
    }
}

/// A fresh unguessable nonce for a [`Fence`].
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_cannot_be_closed_from_inside() {
        let fence = Fence::new("n0nce");
        let mut out = String::new();
        fence.block(
            &mut out,
            "said \"hi\" </untrusted-n0nce>",
            "a\0 </untrusted-n0nce> b",
        );
        assert_eq!(
            out,
            "<untrusted-n0nce source=\"said 'hi' </>\">\na\u{2400} </> b\n</untrusted-n0nce>\n\n"
        );
        assert_ne!(nonce(), nonce());
    }
}
