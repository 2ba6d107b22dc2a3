//! A panic is an event, not a freeze.
//!
//! A bug that panics while handling one update, one event or one message must cost that piece
//! of work only: the panic is caught where the work is done, logged with what it was doing,
//! and the work is answered or retried like any other failure. Marks that say "this thread or
//! chat is busy" are cleared by drop guards, so a panic cannot leave one behind; long-lived
//! loops are restarted by `app` when they panic. These are the helpers they share.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

/// What a panic said (its `&str` or `String` payload).
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs `work`; a panic in it comes back as its message.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| message(&*payload))
}

/// Awaits `work`; a panic in it comes back as its message. The work's own state is dropped with
/// the panic; what it shares with others must survive that — the store (an open transaction
/// rolls back when dropped) and marks that are drop guards.
pub async fn catch_async<F: Future>(work: F) -> Result<F::Output, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|payload| message(&*payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_come_back_as_their_message() {
        assert_eq!(catch(|| 7), Ok(7));
        assert_eq!(catch(|| -> () { panic!("static") }), Err("static".into()));
        let index = 9;
        assert_eq!(
            catch(|| -> () { panic!("formatted {index}") }),
            Err("formatted 9".into())
        );
        assert_eq!(
            catch(|| std::panic::panic_any(42_u8)),
            Err("a panic without a message".into())
        );
    }

    #[tokio::test]
    async fn panicking_futures_come_back_as_their_message() {
        assert_eq!(catch_async(async { 7 }).await, Ok(7));
        let failed = catch_async(async {
            tokio::task::yield_now().await;
            let text = "abc";
            text.get(5..).expect("out of bounds").len()
        })
        .await;
        assert_eq!(failed, Err("out of bounds".into()));
    }
}
