//! "Someone is working on this" marks that clear themselves.
//!
//! The router hands one event per thread at a time to a task, and the outbox loop one task per
//! chat; each marks its thread or chat busy while the task runs. A mark cleared by hand at the
//! end of the task stays forever when the task panics or is cancelled, and the thread or chat
//! is jammed until a restart. A [`Claim`] is cleared when it is dropped, however its task ends.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A set of claimed keys, shared by the loop that claims and the tasks that hold the claims.
#[derive(Debug)]
pub struct Claims<K>(Arc<Mutex<HashSet<K>>>);

impl<K> Default for Claims<K> {
    fn default() -> Self {
        Claims(Arc::default())
    }
}

impl<K> Clone for Claims<K> {
    fn clone(&self) -> Self {
        Claims(self.0.clone())
    }
}

impl<K: Eq + Hash + Clone> Claims<K> {
    /// Claims `key` until the returned claim is dropped; `None` when it is claimed already.
    pub fn claim(&self, key: K) -> Option<Claim<K>> {
        self.set().insert(key.clone()).then(|| Claim {
            claims: self.clone(),
            key,
        })
    }

    /// How many keys are claimed.
    pub fn len(&self) -> usize {
        self.set().len()
    }

    pub fn is_empty(&self) -> bool {
        self.set().is_empty()
    }

    /// The set; nothing panics while holding it, and a claim must still be released from a
    /// panicking task's drop, so a poisoned lock is used as it is.
    fn set(&self) -> MutexGuard<'_, HashSet<K>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A claimed key, released when dropped.
#[derive(Debug)]
#[must_use = "the claim is released when dropped"]
pub struct Claim<K: Eq + Hash + Clone> {
    claims: Claims<K>,
    key: K,
}

impl<K: Eq + Hash + Clone> Drop for Claim<K> {
    fn drop(&mut self) {
        self.claims.set().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_released_however_its_holder_ends() {
        let claims = Claims::default();
        let first = claims.claim("chat").expect("free");
        assert!(claims.claim("chat").is_none(), "claimed once at a time");
        assert!(claims.claim("other").is_some());
        drop(first);
        assert!(claims.is_empty());

        let held = claims.claim("chat").expect("free again");
        let panicked = std::thread::spawn(move || {
            let _held = held;
            panic!("the task holding the claim panics");
        })
        .join();
        assert!(panicked.is_err());
        assert!(claims.claim("chat").is_some(), "released by the panic");
        assert_eq!(claims.len(), 0);
    }
}
