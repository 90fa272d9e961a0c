//! Raw access to a key store's tables for tests that inspect or tamper with rows. The store is internal
//! to the crate (no program can write raw rows through tresor), so tests use SQL directly, as an
//! operator with `sqlite3` or `psql` would.
#![allow(dead_code, unreachable_pub)]

use sqlx::Row as _;

/// One row of `tresor_keys`, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub fingerprint: String,
    pub name: Option<String>,
    pub purpose: i64,
    pub usage: Option<String>,
    pub key_spec: String,
    pub public_key: Vec<u8>,
    pub data: Option<Vec<u8>>,
    pub data_key_id: Option<i64>,
    pub kms_key_id: Option<String>,
}

/// One row of `tresor_data_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey {
    pub id: i64,
    pub wrapper_key_id: String,
    pub wrapped_key: Vec<u8>,
    pub active: bool,
}

async fn pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to the store")
}

fn int(r: &sqlx::any::AnyRow, i: usize) -> i64 {
    r.try_get::<i64, _>(i)
        .or_else(|_| r.try_get::<i16, _>(i).map(i64::from))
        .or_else(|_| r.try_get::<i32, _>(i).map(i64::from))
        .expect("an integer column")
}

/// Every key row, ordered by creation time then fingerprint (the vault's order).
pub async fn rows(url: &str) -> Vec<Row> {
    let p = pool(url).await;
    let rows = sqlx::query(
        "SELECT fingerprint, name, purpose, usage, key_spec, public_key, data, data_key_id, kms_key_id \
         FROM tresor_keys ORDER BY created_at, fingerprint",
    )
    .fetch_all(&p)
    .await
    .expect("read rows");
    let out = rows
        .iter()
        .map(|r| Row {
            fingerprint: r.get(0),
            name: r.get(1),
            purpose: int(r, 2),
            usage: r.get(3),
            key_spec: r.get(4),
            public_key: r.get(5),
            data: r.get(6),
            data_key_id: r.try_get::<Option<i64>, _>(7).expect("data key id"),
            kms_key_id: r.get(8),
        })
        .collect();
    p.close().await;
    out
}

/// Every data key row, newest first.
pub async fn data_keys(url: &str) -> Vec<DataKey> {
    let p = pool(url).await;
    let rows = sqlx::query(
        "SELECT id, wrapper_key_id, wrapped_key, active FROM tresor_data_keys ORDER BY id DESC",
    )
    .fetch_all(&p)
    .await
    .expect("read data keys");
    let out = rows
        .iter()
        .map(|r| DataKey {
            id: int(r, 0),
            wrapper_key_id: r.get(1),
            wrapped_key: r.get(2),
            active: int(r, 3) != 0,
        })
        .collect();
    p.close().await;
    out
}

/// How many key rows there are, and how many hold a clear private key (data, no data key).
pub async fn counts(url: &str) -> (i64, i64) {
    let rows = rows(url).await;
    let clear = rows
        .iter()
        .filter(|r| r.data.is_some() && r.data_key_id.is_none())
        .count();
    (rows.len() as i64, clear as i64)
}

/// Run one statement with text and blob parameters (`$1`, `$2`, …); returns the rows affected.
pub async fn exec(url: &str, sql: &str, params: &[Param<'_>]) -> u64 {
    let p = pool(url).await;
    let mut q = sqlx::query(sql);
    for param in params {
        q = match param {
            Param::Text(t) => q.bind(t.to_string()),
            Param::Blob(b) => q.bind(b.to_vec()),
            Param::Int(i) => q.bind(*i),
        };
    }
    let n = q.execute(&p).await.expect("statement").rows_affected();
    p.close().await;
    n
}

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(&'a str),
    Blob(&'a [u8]),
    Int(i64),
}

/// An owned statement parameter (for [`exec_many`]).
#[derive(Debug, Clone)]
pub enum Owned {
    Text(String),
    Blob(Vec<u8>),
    Int(i64),
    Null,
}

/// Run one statement once per parameter list, in one transaction.
pub async fn exec_many(url: &str, sql: &str, params: Vec<Vec<Owned>>) {
    let p = pool(url).await;
    let mut tx = p.begin().await.expect("begin");
    for list in params {
        let mut q = sqlx::query(sql);
        for param in list {
            q = match param {
                Owned::Text(t) => q.bind(t),
                Owned::Blob(b) => q.bind(b),
                Owned::Int(i) => q.bind(i),
                Owned::Null => q.bind(None::<String>),
            };
        }
        q.execute(&mut *tx).await.expect("statement");
    }
    tx.commit().await.expect("commit");
    p.close().await;
}
