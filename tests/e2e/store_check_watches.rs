//! The store's CI watches (`check_watches`), on SQLite and Postgres alike: a pushed commit is
//! watched once per session, a webhook's nudge makes it due, a later push ends the earlier
//! watch, and an ended watch is never due again.

use switchboard::domain::ids::now_ms;
use switchboard::store::check_watches;

use crate::store::{create_session, open, thread};
use crate::support::db::{Db, on_both_databases};

on_both_databases!(a_pushed_commit_is_watched_once_until_it_ends,);

const A: &str = "0000000000000000000000000000000000000a0a";
const B: &str = "0000000000000000000000000000000000000b0b";

async fn a_pushed_commit_is_watched_once_until_it_ends(db: Db) {
    let (store, _db) = open(db).await;
    let mut tx = store.write_tx().await.unwrap();
    let session = create_session(&mut tx, &thread("1")).await.id;
    tx.commit().await.unwrap();
    let now = now_ms();
    let due = async |at| {
        let watches = store.due_check_watches(at, 10).await.unwrap();
        watches.into_iter().map(|w| w.sha).collect::<Vec<_>>()
    };

    store
        .watch_checks(&session, "acme/web", A, now, now + 1_000)
        .await
        .unwrap();
    assert!(due(now).await.is_empty(), "not due before its first read");
    assert_eq!(due(now + 1_000).await, [A]);
    // `/pr` of the same commit again: the watch stays as it was.
    store
        .watch_checks(&session, "acme/web", A, now + 50, now + 9_000)
        .await
        .unwrap();
    assert_eq!(
        store.next_check_watch_at().await.unwrap(),
        Some(now + 1_000)
    );

    // A webhook names the repository in another case.
    assert_eq!(
        store.nudge_check_watches("Acme/Web", A, now).await.unwrap(),
        1
    );
    assert_eq!(due(now).await, [A]);
    assert_eq!(
        store
            .nudge_check_watches("acme/other", A, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.nudge_check_watches("acme/web", B, now).await.unwrap(),
        0
    );

    let watch = store.latest_check_watch(&session).await.unwrap().unwrap();
    store
        .postpone_check_watch(&watch, now + 5_000, watch.attempts + 1)
        .await
        .unwrap();
    assert!(due(now + 4_999).await.is_empty());
    let postponed = store.latest_check_watch(&session).await.unwrap().unwrap();
    assert_eq!(
        (postponed.next_check_at, postponed.attempts),
        (now + 5_000, 1)
    );

    // A later push of the session ends the earlier watch.
    store
        .watch_checks(&session, "acme/web", B, now + 100, now + 200)
        .await
        .unwrap();
    assert_eq!(due(now + 60_000).await, [B]);
    let latest = store.latest_check_watch(&session).await.unwrap().unwrap();
    assert_eq!(latest.sha, B);

    let mut tx = store.write_tx().await.unwrap();
    check_watches::finish(&mut tx, &latest, now + 300)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(due(now + 60_000).await.is_empty());
    assert_eq!(store.next_check_watch_at().await.unwrap(), None);
    assert_eq!(
        store.nudge_check_watches("acme/web", B, now).await.unwrap(),
        0
    );
    let ended = store.latest_check_watch(&session).await.unwrap().unwrap();
    assert_eq!((ended.sha.as_str(), ended.done_at), (B, Some(now + 300)));
}
