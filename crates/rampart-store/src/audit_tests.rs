use rampart_audit::{AuditEvent, NewEvent, Outcome, action};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::store::Store;

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "client-1",
        action::ORDER_ACCEPTED,
        format!("order:{n}"),
        Outcome::Success,
        "r",
    )
}

/// A store whose log of `count` events has no stored subtree hashes, as if it had been
/// written before they were stored.
async fn old_log(dir: &tempfile::TempDir, count: u64) -> Store {
    let store = Store::open(&dir.path().join("rampart.db")).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for n in 1..=count {
        tx.append(event(n)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for sql in [
        "DROP TRIGGER audit_tree_nodes_no_delete",
        "DELETE FROM audit_tree_nodes",
    ] {
        sqlx::query(sql).execute(&mut *tx.tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    store
}

async fn stored_nodes(store: &Store) -> u64 {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_tree_nodes")
        .fetch_one(&mut *store.reader().await.unwrap())
        .await
        .unwrap();
    u64::try_from(count).unwrap()
}

#[tokio::test]
async fn a_batch_out_of_order_on_a_lagging_log_leaves_its_blocks_to_the_back_fill() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_log(&dir, 2000).await;

    // Events 2001 to 2300 sealed onto the chain, staged with the first two swapped, so
    // that the batch takes the path that reads its leaves back from the table.
    let mut tx = store.begin().await.unwrap();
    let conn = &mut *tx.tx;
    let (_, mut prev) = head(conn).await.unwrap();
    let mut staged = Vec::new();
    for seq in 2001..=2300 {
        let recorded = AuditEvent::from_new(seq, chrono::Utc::now(), event(seq));
        let sealed = Staged::seal(&recorded, &prev);
        prev = sealed.chain_hash;
        staged.push(sealed);
    }
    staged.swap(0, 1);
    insert_staged(conn, staged).await.unwrap();
    tx.commit().await.unwrap();

    let nodes = stored_nodes(&store).await;
    assert_eq!(nodes, 0, "the batch read old leaves back");
    store
        .back_fill_audit_tree(&CancellationToken::new())
        .await
        .unwrap();
    let subtrees: u64 = (8..64).map(|level| 2300_u64 >> level).sum();
    assert_eq!(stored_nodes(&store).await, subtrees);
    assert_eq!(verify_audit(&store, |_, _| {}).await.unwrap().events, 2300);
    store.close().await;
}
