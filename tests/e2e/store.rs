//! The store's guarantees, on SQLite and Postgres alike: inbound events are kept once, the
//! per-session FIFO is ordered, outbound posts are idempotent, edits coalesce without losing
//! the latest text, a post's files are kept apart from its row (and old rows holding them are
//! still read), and costs are booked from the agent's cumulative figures.

use std::collections::BTreeSet;

use switchboard::domain::agent::{AgentChoice, AgentKind};
use switchboard::domain::agent_event::AgentEvent;
use switchboard::domain::ids::{InboundId, SessionId, TurnId, new_id, now_ms};
use switchboard::domain::inbound::{Inbound, InboundBody};
use switchboard::domain::outbound::{Attachment, AttachmentData, Outbound, OutboundOp, Post};
use switchboard::domain::outbox_key::OutboxKey;
use switchboard::domain::outcome::Outcome;
use switchboard::domain::thread::{Author, Platform, ThreadRef};
use switchboard::domain::turn::TurnState;
use switchboard::domain::workspace::{Credential, GitCheckout, SessionWorkspace, Workspace};
use switchboard::store::{
    NewSession, NewTurn, PauseScope, RetryPause, SessionRow, Store, TurnStats, Tx, outbox,
    sessions, turns,
};

use crate::support::db::{Db, TestDb, on_both_databases};

/// The agent a test's turns start with.
fn claude() -> AgentChoice {
    AgentChoice {
        agent: AgentKind::Claude,
        model: None,
    }
}

on_both_databases!(
    inbound_events_are_kept_once,
    turns_form_an_ordered_queue_per_session,
    posts_are_idempotent_and_edits_coalesce,
    costs_are_booked_from_cumulative_figures,
    an_agent_switch_starts_afresh_and_a_turn_of_the_old_agent_cannot_undo_it,
    rate_limit_pauses_keep_their_latest_end,
    the_next_message_is_found_through_an_index_without_sorting,
    web_sessions_are_delivered_in_lanes_of_their_own,
    a_posts_files_are_kept_apart_from_its_row_and_go_with_it,
    a_row_queued_with_its_files_inline_is_still_read,
    a_workspace_is_due_only_once_its_session_is_idle_long_enough,
    a_github_sessions_checkouts_are_due_once_its_whole_thread_is_idle,
);

pub(crate) async fn open(db: Db) -> (Store, TestDb) {
    let test_db = TestDb::create(db).await;
    let store = Store::open(&test_db.url, 4).await.expect("open the store");
    (store, test_db)
}

pub(crate) fn thread(chat: &str) -> ThreadRef {
    ThreadRef {
        platform: Platform::Telegram,
        chat: chat.into(),
        topic: None,
    }
}

pub(crate) async fn create_session(tx: &mut Tx, thread: &ThreadRef) -> SessionRow {
    sessions::create_session(
        tx,
        NewSession {
            id: SessionId::generate(),
            thread,
            host: "h",
            agent: AgentKind::Claude,
            model: None,
            workdir: "~/w",
            workspace: None,
            created_by: "7",
        },
    )
    .await
    .unwrap()
}

fn inbound(update: &str, text: &str) -> Inbound {
    Inbound {
        external_id: update.into(),
        thread: thread("1"),
        author: Author {
            id: "7".into(),
            display: "@a".into(),
        },
        message_id: Some("3".into()),
        body: InboundBody::Prompt { text: text.into() },
        files: Vec::new(),
        context: None,
    }
}

async fn inbound_events_are_kept_once(db: Db) {
    let (store, _db) = open(db).await;
    let first = store.insert_inbound(&inbound("100", "a")).await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        store
            .insert_inbound(&inbound("100", "a again"))
            .await
            .unwrap(),
        None
    );
    let second = store
        .insert_inbound(&inbound("101", "b"))
        .await
        .unwrap()
        .unwrap();
    let pending = store.unprocessed_inbound(10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].1.body, InboundBody::Prompt { text: "a".into() });
    store.mark_inbound_processed(&second).await.unwrap();
    let pending = store.unprocessed_inbound(10).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<InboundId>>(),
        vec![first.unwrap()]
    );
    // Migrating again is a no-op.
    store.migrate().await.unwrap();
}

async fn turns_form_an_ordered_queue_per_session(db: Db) {
    let (store, _db) = open(db).await;
    let t = thread("1");
    let mut tx = store.write_tx().await.unwrap();
    let session = create_session(&mut tx, &t).await;
    let mut ids = Vec::new();
    for prompt in ["one", "two", "three"] {
        let id = TurnId::generate();
        turns::insert_turn(
            &mut tx,
            NewTurn {
                id: &id,
                session_id: &session.id,
                inbound_id: None,
                prompt,
                author_id: "7",
                author_name: "@a",
                reply_to: None,
                host: "h",
                workspace: None,
                review: None,
                quiet: false,
            },
        )
        .await
        .unwrap();
        ids.push(id);
    }
    assert_eq!(
        turns::queue_counts(&mut tx, &session.id).await.unwrap(),
        (0, 3)
    );
    tx.commit().await.unwrap();

    assert_eq!(
        store.active_session(&t).await.unwrap().unwrap().id,
        session.id
    );
    let next = store.next_turn(&session.id).await.unwrap().unwrap();
    assert_eq!(next.id, ids[0]);
    assert!(
        store
            .mark_turn_starting(&ids[0], "~/.sb/turns/x", 1, &claude())
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_turn_starting(&ids[0], "~/.sb/turns/x", 2, &claude())
            .await
            .unwrap(),
        "only a queued turn starts"
    );
    store.mark_turn_running(&ids[0]).await.unwrap();
    store
        .record_progress(
            &ids[0],
            &[
                (0, 0, AgentEvent::Text { text: "hi".into() }),
                (
                    0,
                    1,
                    AgentEvent::Text {
                        text: "there".into(),
                    },
                ),
            ],
            42,
            Some("`Bash` ls"),
        )
        .await
        .unwrap();
    // A replay of the same lines inserts nothing twice.
    store
        .record_progress(
            &ids[0],
            &[(0, 0, AgentEvent::Text { text: "hi".into() })],
            42,
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.turn_events(&ids[0]).await.unwrap().len(), 2);
    let running = store.running_turn(&session.id).await.unwrap().unwrap();
    assert_eq!(
        (running.read_offset, running.state),
        (42, TurnState::Running)
    );
    assert_eq!(running.activity.as_deref(), Some("`Bash` ls"));
    // A started turn comes before queued ones (reattach after a restart).
    assert_eq!(
        store.next_turn(&session.id).await.unwrap().unwrap().id,
        ids[0]
    );
    assert_eq!(store.queued_count(&session.id).await.unwrap(), 2);
    assert!(store.request_cancel(&ids[0], "user").await.unwrap());
    assert!(
        !store.request_cancel(&ids[0], "timeout").await.unwrap(),
        "the first reason stays"
    );

    let mut tx = store.write_tx().await.unwrap();
    turns::finish_turn(
        &mut tx,
        &ids[0],
        now_ms(),
        &Outcome::Cancelled,
        None,
        &TurnStats::default(),
    )
    .await
    .unwrap();
    let dropped = turns::drop_queued(&mut tx, &session.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        dropped.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        ids[1..]
    );
    assert_eq!(store.next_turn(&session.id).await.unwrap(), None);
    assert!(store.sessions_with_work().await.unwrap().is_empty());
    let done = store
        .last_finished_turn(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.outcome, Some(Outcome::Cancelled));
}

async fn posts_are_idempotent_and_edits_coalesce(db: Db) {
    let (store, _db) = open(db).await;
    let t = thread("5");
    let turn = TurnId::from_string("1".into());
    let (status, status_edit, result) = (
        OutboxKey::Status(turn.clone()),
        OutboxKey::StatusEdit(turn.clone()),
        OutboxKey::Result(turn),
    );
    let post = |key: &OutboxKey, text: &str| Outbound {
        key: key.clone(),
        thread: t.clone(),
        op: OutboundOp::Post(Post::text(text)),
    };
    let edit = |text: &str| Outbound {
        key: status_edit.clone(),
        thread: t.clone(),
        op: OutboundOp::Edit {
            target: status.clone(),
            markdown: text.into(),
            progress: true,
            buttons: Vec::new(),
        },
    };
    store
        .enqueue_outbound(&post(&status, "queued"))
        .await
        .unwrap();
    store
        .enqueue_outbound(&post(&status, "a replay"))
        .await
        .unwrap();
    store.enqueue_outbound(&edit("working 1s")).await.unwrap();
    store
        .enqueue_outbound(&post(&result, "done"))
        .await
        .unwrap();
    assert_eq!(
        store.outbox_chats(Platform::Telegram).await.unwrap(),
        vec!["5".to_owned()]
    );

    let next = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .next_outbound(Platform::Telegram, "5")
                .await
                .unwrap()
                .unwrap()
        }
    };
    let first = next(&store).await;
    assert_eq!(
        first.op,
        OutboundOp::Post(Post::text("queued")),
        "the replay changed nothing"
    );
    store.record_posted(&status, 0, "m1").await.unwrap();
    store.outbox_done(&first).await.unwrap();
    // New posts go before edits: the answer first, though queued after the edit.
    let answer = next(&store).await;
    assert_eq!(answer.key, result);
    store.record_posted(&result, 0, "m2").await.unwrap();
    store
        .record_posted(&result, 0, "m2-duplicate")
        .await
        .unwrap();
    store.record_posted(&result, 1, "m3").await.unwrap();
    assert_eq!(store.posted_parts(&result).await.unwrap(), vec!["m2", "m3"]);
    store.outbox_done(&answer).await.unwrap();
    let edit_row = next(&store).await;
    assert_eq!(edit_row.key, status_edit);
    // A newer text while the old one is in flight: the stale "done" must not swallow it.
    store.enqueue_outbound(&edit("working 2s")).await.unwrap();
    store.outbox_done(&edit_row).await.unwrap();
    let again = next(&store).await;
    assert_eq!(
        again.op,
        OutboundOp::Edit {
            target: status.clone(),
            markdown: "working 2s".into(),
            progress: true,
            buttons: Vec::new(),
        }
    );
    store
        .outbox_defer(&again, i64::MAX, "network")
        .await
        .unwrap();
    let deferred = store
        .next_outbound(Platform::Telegram, "5")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((&deferred.key, deferred.attempts), (&status_edit, 1));
    store.outbox_failed(&deferred, "blocked").await.unwrap();
    assert_eq!(
        store.next_outbound(Platform::Telegram, "5").await.unwrap(),
        None
    );
}

/// `/agent`: the session's next turn starts a new conversation with the new agent and its
/// default model, and a turn of the old agent that reports its conversation id after the switch
/// (it started before) leaves the session as switched; `/model` keeps the conversation.
async fn an_agent_switch_starts_afresh_and_a_turn_of_the_old_agent_cannot_undo_it(db: Db) {
    let (store, _db) = open(db).await;
    let t = thread("10");
    let mut tx = store.write_tx().await.unwrap();
    let session = create_session(&mut tx, &t).await;
    tx.commit().await.unwrap();
    let read = async || store.session(&session.id).await.unwrap().unwrap();
    store
        .set_agent_session_id(&session.id, AgentKind::Claude, Some("conv-1"))
        .await
        .unwrap();
    store
        .set_session_model(&session.id, Some("opus"))
        .await
        .unwrap();
    let modelled = read().await;
    assert_eq!(modelled.model.as_deref(), Some("opus"));
    assert_eq!(modelled.agent_session_id.as_deref(), Some("conv-1"));

    let book = async |cumulative: f64| {
        let mut tx = store.write_tx().await.unwrap();
        let cost = turns::book_session_cost(&mut tx, &session.id, cumulative)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        cost
    };
    assert_eq!(book(0.5).await, 0.5);

    store
        .set_session_agent(&session.id, AgentKind::Codex)
        .await
        .unwrap();
    // Claude's turn, running through the switch, reports its conversation and its cost.
    store
        .set_agent_session_id(&session.id, AgentKind::Claude, Some("conv-2"))
        .await
        .unwrap();
    assert_eq!(book(0.75).await, 0.25, "that turn's own cost");
    let switched = read().await;
    assert_eq!(switched.agent, AgentKind::Codex);
    assert_eq!(switched.model, None);
    assert_eq!(switched.agent_session_id, None, "claude's conversation");
    store
        .set_agent_session_id(&session.id, AgentKind::Codex, Some("thread-1"))
        .await
        .unwrap();
    assert_eq!(read().await.agent_session_id.as_deref(), Some("thread-1"));
    assert_eq!(
        book(1.0).await,
        1.0,
        "codex's conversation counts from zero"
    );
    assert_eq!(read().await.total_cost_usd, 1.75);
}

async fn costs_are_booked_from_cumulative_figures(db: Db) {
    let (store, _db) = open(db).await;
    let t = thread("9");
    let mut tx = store.write_tx().await.unwrap();
    let session = create_session(&mut tx, &t).await;
    tx.commit().await.unwrap();
    store
        .set_agent_session_id(&session.id, AgentKind::Claude, Some("conv-1"))
        .await
        .unwrap();
    let mut costs = Vec::new();
    for cumulative in [0.25, 0.75] {
        let mut tx = store.write_tx().await.unwrap();
        costs.push(
            turns::book_session_cost(&mut tx, &session.id, cumulative)
                .await
                .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    // A new conversation reports from zero again.
    store
        .set_agent_session_id(&session.id, AgentKind::Claude, Some("conv-2"))
        .await
        .unwrap();
    let mut tx = store.write_tx().await.unwrap();
    costs.push(
        turns::book_session_cost(&mut tx, &session.id, 0.125)
            .await
            .unwrap(),
    );
    tx.commit().await.unwrap();
    assert_eq!(costs, vec![0.25, 0.5, 0.125]);
    // An agent that reports each run's own cost adds it as it is, and leaves the cumulative
    // figure of the conversation alone.
    let mut tx = store.write_tx().await.unwrap();
    turns::book_run_cost(&mut tx, &session.id, 0.5)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write_tx().await.unwrap();
    let next = turns::book_session_cost(&mut tx, &session.id, 0.25)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        next, 0.125,
        "from the conversation's last cumulative figure"
    );
    let session = store.session(&session.id).await.unwrap().unwrap();
    assert_eq!(session.total_cost_usd, 1.5);
    assert_eq!(session.agent_session_id.as_deref(), Some("conv-2"));
    let listed = store.chat_sessions(&t, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    // A message queued in a transaction that rolls back is never sent.
    let mut tx = store.write_tx().await.unwrap();
    outbox::enqueue(
        &mut tx,
        &Outbound {
            key: OutboxKey::Result(TurnId::from_string("k".into())),
            thread: t.clone(),
            op: OutboundOp::Post(Post::text("x")),
        },
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        store.next_outbound(Platform::Telegram, "9").await.unwrap(),
        None,
        "rolled back"
    );
}

/// A stored pause is kept until its end, a shorter one never shortens it, pauses of one platform
/// are not another's, and pauses already over are forgotten.
async fn rate_limit_pauses_keep_their_latest_end(db: Db) {
    let (store, _db) = open(db).await;
    let now = switchboard::domain::ids::now_ms();
    let chat = |c: &str, until_ms| RetryPause {
        scope: PauseScope::Chat(c.into()),
        until_ms,
    };
    let everywhere = RetryPause {
        scope: PauseScope::Platform,
        until_ms: now + 30_000,
    };
    store
        .save_pause(Platform::Telegram, &chat("1", now + 60_000))
        .await
        .unwrap();
    store
        .save_pause(Platform::Telegram, &chat("1", now + 5_000))
        .await
        .unwrap();
    store
        .save_pause(Platform::Telegram, &chat("2", now - 1))
        .await
        .unwrap();
    store
        .save_pause(Platform::Slack, &everywhere)
        .await
        .unwrap();
    assert_eq!(
        store.pending_pauses(Platform::Telegram).await.unwrap(),
        [chat("1", now + 60_000)]
    );
    assert_eq!(
        store.pending_pauses(Platform::Slack).await.unwrap(),
        [everywhere]
    );
    assert!(
        store
            .pending_pauses(Platform::Discord)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A lane's next post and next edit are each the first entry of an index in the order asked
/// for: no query sorts a lane's pending rows (500 live web turns once waited 17 s on that).
async fn the_next_message_is_found_through_an_index_without_sorting(db: Db) {
    let (store, test_db) = open(db).await;
    // Delivered rows stay: most of a real outbox, over many chats. (With one chat's rows the
    // bulk of the table, Postgres may rightly find a walk of the primary key as cheap.)
    for n in 0..600 {
        let delivered = Outbound {
            key: OutboxKey::Result(TurnId::from_string(format!("old-{n}"))),
            thread: thread(&format!("{}", n % 10)),
            op: OutboundOp::Post(Post::text("answered")),
        };
        store.enqueue_outbound(&delivered).await.unwrap();
        let row = store
            .pending_outbound(&delivered.key)
            .await
            .unwrap()
            .unwrap();
        store.outbox_done(&row).await.unwrap();
    }
    for n in 0..200 {
        let turn = TurnId::from_string(format!("{n}"));
        let target = OutboxKey::Status(turn.clone());
        store
            .enqueue_outbound(&Outbound {
                key: target.clone(),
                thread: thread(&format!("{}", n % 10)),
                op: OutboundOp::Post(Post::text("queued")),
            })
            .await
            .unwrap();
        store
            .record_posted(&target, 0, &format!("m{n}"))
            .await
            .unwrap();
        store
            .enqueue_outbound(&Outbound {
                key: OutboxKey::StatusEdit(turn),
                thread: thread(&format!("{}", n % 7)),
                op: OutboundOp::Edit {
                    target,
                    markdown: "working".into(),
                    progress: true,
                    buttons: Vec::new(),
                },
            })
            .await
            .unwrap();
    }
    let literal = |sql: &str| sql.replace("$1", "'telegram'").replace("$2", "'5'");
    for (sql, index) in [
        (outbox::NEXT_POST, "outbox_pending_posts"),
        (outbox::NEXT_EDIT, "outbox_pending"),
    ] {
        let plan = match db {
            Db::Sqlite => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&test_db.url).await.unwrap();
                let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!("EXPLAIN QUERY PLAN {}", literal(sql)),
                ))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
            Db::Postgres => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&test_db.url).await.unwrap();
                // On so few rows a scan of the table may be cheaper: ask whether an index
                // gives the order at all.
                sqlx::raw_sql(sqlx::AssertSqlSafe(
                    "ANALYZE outbox; SET enable_seqscan = off; SET enable_sort = off".to_owned(),
                ))
                .execute(&mut conn)
                .await
                .unwrap();
                let rows: Vec<(String,)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {}", literal(sql))))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
            }
        };
        assert!(
            plan.contains(&format!("{index} ")) || plan.ends_with(index),
            "{sql}\nnot through {index}:\n{plan}"
        );
        for whole in ["TEMP B-TREE", "Sort", "SCAN outbox", "Seq Scan on outbox"] {
            assert!(!plan.contains(whole), "{sql}\nsorts or scans:\n{plan}");
        }
    }
}

/// One person's web sessions are delivered apart, each in order: a slow session's messages
/// never queue another's.
async fn web_sessions_are_delivered_in_lanes_of_their_own(db: Db) {
    let (store, _db) = open(db).await;
    let session = |id: &str| ThreadRef {
        platform: Platform::Web,
        chat: "bob".into(),
        topic: Some(id.into()),
    };
    let key = |name: &str| OutboxKey::Result(TurnId::from_string(name.into()));
    for (name, id) in [("a1", "s1"), ("b1", "s2"), ("a2", "s1")] {
        store
            .enqueue_outbound(&Outbound {
                key: key(name),
                thread: session(id),
                op: OutboundOp::Post(Post::text(name)),
            })
            .await
            .unwrap();
    }
    let mut lanes = store.outbox_chats(Platform::Web).await.unwrap();
    lanes.sort();
    assert_eq!(
        lanes,
        [outbox::lane(&session("s1")), outbox::lane(&session("s2"))]
    );
    let first = |lane: String| {
        let store = store.clone();
        async move {
            let row = store.next_outbound(Platform::Web, &lane).await.unwrap();
            row.expect("a pending message").key
        }
    };
    assert_eq!(first(outbox::lane(&session("s1"))).await, key("a1"));
    assert_eq!(first(outbox::lane(&session("s2"))).await, key("b1"));
}

/// The outbox key stored as `text`.
fn key(text: &str) -> OutboxKey {
    text.parse().expect("an outbox key")
}

/// A connection of the test's own to its database, for what the store does not offer (raw rows,
/// deletes). On SQLite, foreign keys are on as on the store's connections.
async fn raw_connection(db: Db, test_db: &TestDb) -> sqlx::AnyConnection {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&test_db.url).await.unwrap();
    if db == Db::Sqlite {
        sqlx::raw_sql("PRAGMA foreign_keys = ON")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn
}

/// The number of rows in a table.
async fn count(conn: &mut sqlx::AnyConnection, table: &str) -> i64 {
    use sqlx::Row;
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    row.try_get("n").unwrap()
}

/// The length of the JSON a pending row carries (what the outlet reads on every pass).
async fn op_length(conn: &mut sqlx::AnyConnection, key: &str) -> usize {
    use sqlx::Row;
    let row = sqlx::query("SELECT op FROM outbox WHERE key = $1")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    row.try_get::<String, _>("op").unwrap().len()
}

/// A post's files (a 4 MiB patch and an image) are written with its row, in its transaction
/// (rolled back, neither is there), only once per key, named by the row and read apart, and
/// deleted with the row.
async fn a_posts_files_are_kept_apart_from_its_row_and_go_with_it(db: Db) {
    let (store, test_db) = open(db).await;
    let mut raw = raw_connection(db, &test_db).await;
    let line = "+    let a_line = of_a_patch(as_long, as_most);\n";
    let patch = line.repeat((4 << 20) / line.len());
    let image = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255];
    let answer = |patch: &str| Outbound {
        key: key("turn:1:result"),
        thread: thread("5"),
        op: OutboundOp::Post(Post::text("The answer").attach(vec![
            Attachment::text("turn-1.diff".into(), patch.to_owned(), "The patch".into()),
            Attachment::image("a.png".into(), image.clone(), "a.png".into()),
        ])),
    };

    let mut tx = store.write_tx().await.unwrap();
    outbox::enqueue(&mut tx, &answer(&patch)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(&mut raw, "outbox").await, 0);
    assert_eq!(
        count(&mut raw, "outbox_attachments").await,
        0,
        "rolled back with the row"
    );

    let mut tx = store.write_tx().await.unwrap();
    outbox::enqueue(&mut tx, &answer(&patch)).await.unwrap();
    tx.commit().await.unwrap();
    // Queued again under its key (a replay), nothing changes.
    store.enqueue_outbound(&answer("+other\n")).await.unwrap();
    assert_eq!(count(&mut raw, "outbox_attachments").await, 2);

    let inline = serde_json::to_string(&answer(&patch).op).unwrap().len();
    let kept = op_length(&mut raw, "turn:1:result").await;
    eprintln!(
        "a pending row with a {} byte patch: {inline} bytes of JSON with the files inline, {kept} \
         with them kept apart",
        patch.len()
    );
    assert!(inline > patch.len() && kept < 1024, "{inline} → {kept}");

    let row = store.next_outbound(Platform::Telegram, "5").await.unwrap();
    let OutboundOp::Post(post) = row.expect("the answer is pending").op else {
        panic!("the answer is a post");
    };
    let data: Vec<_> = post.attachments.iter().map(|a| a.data.clone()).collect();
    assert_eq!(
        data,
        [
            AttachmentData::Stored { index: 0 },
            AttachmentData::Stored { index: 1 }
        ]
    );
    let read = |file: Attachment| {
        let store = store.clone();
        async move {
            store
                .attachment_bytes(&key("turn:1:result"), &file)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        read(post.attachments[0].clone()).await,
        Some(patch.clone().into_bytes())
    );
    assert_eq!(read(post.attachments[1].clone()).await, Some(image.clone()));
    let (_, shown) = store
        .outbox_post(&key("turn:1:result"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown, post, "the console reads the same post");

    sqlx::query("DELETE FROM outbox WHERE key = $1")
        .bind("turn:1:result")
        .execute(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        count(&mut raw, "outbox_attachments").await,
        0,
        "deleted with the row"
    );
    assert_eq!(read(post.attachments[0].clone()).await, None);
}

/// A row queued before files were kept apart holds them inline, as base64 in its JSON: it is
/// still read, and its files with it.
async fn a_row_queued_with_its_files_inline_is_still_read(db: Db) {
    let (store, test_db) = open(db).await;
    let mut raw = raw_connection(db, &test_db).await;
    // "K2EK" is "+a\n".
    let op = r#"{"Post":{"markdown":"The answer","reply_to":"3","silent":false,"document_name":"answer-1","attachments":[{"name":"turn-1.diff","data":"K2EK","caption":"The patch","image":false}]}}"#;
    sqlx::query(
        "INSERT INTO outbox (id, key, platform, chat, thread_ref, op, state, created_at, \
         updated_at) VALUES ($1, $2, 'telegram', '5', $3, $4, 'pending', $5, $5)",
    )
    .bind(new_id())
    .bind("turn:1:result")
    .bind(serde_json::to_string(&thread("5")).unwrap())
    .bind(op)
    .bind(now_ms())
    .execute(&mut raw)
    .await
    .unwrap();
    let row = store.next_outbound(Platform::Telegram, "5").await.unwrap();
    let expected = Post::text("The answer")
        .replying_to(Some("3".into()))
        .document_name("answer-1")
        .attach(vec![Attachment::text(
            "turn-1.diff".into(),
            "+a\n".into(),
            "The patch".into(),
        )]);
    assert_eq!(
        row.expect("the row is pending").op,
        OutboundOp::Post(expected.clone())
    );
    let file = &expected.attachments[0];
    assert_eq!(
        store
            .attachment_bytes(&key("turn:1:result"), file)
            .await
            .unwrap(),
        Some(b"+a\n".to_vec())
    );
    let (_, shown) = store
        .outbox_post(&key("turn:1:result"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown, expected);
}

/// A turn of `session` in the queue, started when `started` and finished at `finished` (ms).
async fn turn_at(
    store: &Store,
    session: &SessionRow,
    started: Option<i64>,
    finished: Option<i64>,
) -> TurnId {
    turn_in(store, session, None, started, finished).await
}

/// [`turn_at`], in the checkout `workspace` when there is one.
async fn turn_in(
    store: &Store,
    session: &SessionRow,
    workspace: Option<&Workspace>,
    started: Option<i64>,
    finished: Option<i64>,
) -> TurnId {
    let id = TurnId::generate();
    let mut tx = store.write_tx().await.unwrap();
    turns::insert_turn(
        &mut tx,
        NewTurn {
            id: &id,
            session_id: &session.id,
            inbound_id: None,
            prompt: "p",
            author_id: "7",
            author_name: "@a",
            reply_to: None,
            host: "h",
            workspace,
            review: None,
            quiet: false,
        },
    )
    .await
    .unwrap();
    if let Some(finished) = finished {
        turns::finish_turn(
            &mut tx,
            &id,
            finished,
            &Outcome::Cancelled,
            None,
            &TurnStats::default(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    if let (Some(started), None) = (started, finished) {
        assert!(
            store
                .mark_turn_starting(&id, "~/t", started, &claude())
                .await
                .unwrap()
        );
        store.mark_turn_running(&id).await.unwrap();
    }
    id
}

/// The clean-up's question: whose workspace has been idle since before a time? Not a session
/// with a turn queued or running (however old), nor one active since, nor one removed already
/// (until a turn makes it again), nor one without a workspace; asked host by host.
async fn a_workspace_is_due_only_once_its_session_is_idle_long_enough(db: Db) {
    let (store, _db) = open(db).await;
    let long_ago = 1_000;
    let mut made = Vec::new();
    let scratch = Some(SessionWorkspace::Scratch);
    for (chat, host, workspace) in [
        ("idle", "h", scratch.clone()),
        ("queued", "h", scratch.clone()),
        ("running", "h", scratch.clone()),
        ("recent", "h", scratch.clone()),
        ("fresh", "h", scratch.clone()),
        ("none", "h", None),
        ("elsewhere", "other", scratch.clone()),
    ] {
        let mut tx = store.write_tx().await.unwrap();
        let session = sessions::create_session(
            &mut tx,
            NewSession {
                id: SessionId::generate(),
                thread: &thread(chat),
                host,
                agent: AgentKind::Claude,
                model: None,
                workdir: "~/w/scratch/s",
                workspace: workspace.as_ref(),
                created_by: "7",
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        made.push(session);
    }
    let [idle, queued, running, recent, fresh, none, elsewhere] = &made[..] else {
        unreachable!()
    };
    turn_at(&store, idle, None, Some(long_ago)).await;
    turn_at(&store, queued, None, Some(long_ago)).await;
    turn_at(&store, queued, None, None).await;
    turn_at(&store, running, Some(long_ago), None).await;
    turn_at(&store, recent, None, Some(long_ago)).await;
    turn_at(&store, recent, None, Some(now_ms())).await;
    // Sessions made in one millisecond have no order among them.
    let due = async |idle_since: i64| -> BTreeSet<String> {
        let rows = store.workspaces_due("h", idle_since, 100).await.unwrap();
        rows.into_iter().map(|s| s.id.as_str().to_owned()).collect()
    };
    let ids = |sessions: &[&SessionRow]| -> BTreeSet<String> {
        sessions.iter().map(|s| s.id.as_str().to_owned()).collect()
    };
    let a_minute_ago = now_ms() - 60_000;
    assert_eq!(due(a_minute_ago).await, ids(&[idle]));
    let later = now_ms() + 60_000;
    assert_eq!(due(later).await, ids(&[idle, recent, fresh]));
    assert_eq!(due(long_ago).await, ids(&[]));
    let other = store.workspaces_due("other", later, 100).await.unwrap();
    assert_eq!(ids(&other.iter().collect::<Vec<_>>()), ids(&[elsewhere]));
    for (session, is_due) in [(idle, true), (running, false), (none, false)] {
        let found = store.workspace_due(&session.id, later).await.unwrap();
        assert_eq!(found.map(|s| s.id), is_due.then(|| session.id.clone()));
    }

    assert!(store.mark_workspace_removed(&idle.id, 5).await.unwrap());
    assert!(!store.mark_workspace_removed(&idle.id, 6).await.unwrap());
    let removed = store.session(&idle.id).await.unwrap().unwrap();
    assert_eq!(removed.delivery.workspace_removed_at, Some(5));
    assert_eq!(due(a_minute_ago).await, ids(&[]));
    store.mark_workspace_remade(&idle.id).await.unwrap();
    let remade = store.session(&idle.id).await.unwrap().unwrap();
    assert_eq!(remade.delivery.workspace_removed_at, None);
    assert_eq!(due(a_minute_ago).await, ids(&[idle]));
}

/// A GitHub session owns no directory: what is due is the checkouts its turns used, once its
/// whole thread has been idle long enough — a checkout is its thread's, and the thread's next
/// session works in the same one. So not while a later session of the thread has a turn
/// running, nor until that one's end is long enough ago; never a session without a workspace
/// whose turns had no checkout. `session_checkouts` names each directory once (its newest turn's
/// checkout).
async fn a_github_sessions_checkouts_are_due_once_its_whole_thread_is_idle(db: Db) {
    let (store, _db) = open(db).await;
    let long_ago = 1_000;
    let new = |thread| NewSession {
        id: SessionId::generate(),
        thread,
        host: "h",
        agent: AgentKind::Claude,
        model: None,
        workdir: "~/w",
        workspace: None,
        created_by: "7",
    };
    let checkout = |fetch_ref: &str| {
        Workspace::Git(GitCheckout {
            clone_url: "https://github.example/octo/app.git".into(),
            fetch_ref: fetch_ref.into(),
            base_ref: None,
            dir: "github/octo/app/pr-7".into(),
            credential: Credential::GitHubInstallation(1),
            push: None,
            resume_ref: None,
            pull_request: None,
        })
    };
    let pr = ThreadRef {
        platform: Platform::GitHub,
        chat: "octo/app".into(),
        topic: Some("pr/7".into()),
    };
    let old = store.replace_session(new(&pr)).await.unwrap();
    let (first, newest) = (checkout("refs/pull/7/head"), checkout("refs/heads/feature"));
    turn_in(&store, &old, Some(&first), None, Some(long_ago)).await;
    turn_in(&store, &old, Some(&newest), None, Some(long_ago)).await;
    let plain_thread = thread("plain");
    let plain = store.replace_session(new(&plain_thread)).await.unwrap();
    turn_at(&store, &plain, None, Some(long_ago)).await;
    let due = async |idle_since: i64| -> BTreeSet<String> {
        let rows = store.workspaces_due("h", idle_since, 100).await.unwrap();
        rows.into_iter().map(|s| s.id.as_str().to_owned()).collect()
    };
    let ids = |sessions: &[&SessionRow]| -> BTreeSet<String> {
        sessions.iter().map(|s| s.id.as_str().to_owned()).collect()
    };
    let later = now_ms() + 60_000;
    assert_eq!(due(later).await, ids(&[&old]));
    let Workspace::Git(newest_checkout) = &newest;
    assert_eq!(
        store.session_checkouts(&old.id).await.unwrap(),
        vec![newest_checkout.clone()]
    );
    assert!(store.session_checkouts(&plain.id).await.unwrap().is_empty());

    // `/new`: the thread's next session runs a turn in the same checkout.
    let current = store.replace_session(new(&pr)).await.unwrap();
    let running = turn_in(&store, &current, Some(&first), Some(now_ms()), None).await;
    assert_eq!(due(later).await, ids(&[]), "the thread is busy");
    assert_eq!(store.workspace_due(&old.id, later).await.unwrap(), None);
    let mut tx = store.write_tx().await.unwrap();
    turns::finish_turn(
        &mut tx,
        &running,
        now_ms(),
        &Outcome::Cancelled,
        None,
        &TurnStats::default(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let a_minute_ago = now_ms() - 60_000;
    assert_eq!(
        due(a_minute_ago).await,
        ids(&[]),
        "the thread was active since"
    );
    assert_eq!(due(later).await, ids(&[&old, &current]));

    assert!(store.mark_workspace_removed(&old.id, 5).await.unwrap());
    assert_eq!(due(later).await, ids(&[&current]));
}
