//! Small durable settings.

use anyhow::Result;

use super::{Store, col};

impl Store {
    pub async fn kv_get(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT v FROM kv WHERE k = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| col(&row, "v")).transpose()
    }

    pub async fn kv_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
