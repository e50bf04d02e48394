//! Every backend, fresh, for tests that must hold on each of them: this crate's contract
//! suite, and the engine's tests of listings over corrupt entries (feature `testing`).

use std::sync::Arc;

use kiln_tests::redis::RedisServer;

use crate::{Blocking, FileStore, KvStore, MemoryStore, RedisConfig, RedisStore};

/// What a backend needs kept alive while it is used (a temp dir, a redis-server).
pub type Keep = Box<dyn std::any::Any>;

/// A Redis store of `deployment` on `server`.
pub async fn redis_store(server: &RedisServer, deployment: &str) -> RedisStore {
    let config = RedisConfig { deployment: deployment.into(), ..RedisConfig::new(server.url()) };
    RedisStore::connect(&config).await.expect("connect to the test redis-server")
}

/// Every backend (memory, file in a temp dir, Redis on a throwaway `redis-server`), each
/// fresh, named, with what it needs kept alive.
pub async fn backends() -> Vec<(&'static str, Arc<dyn KvStore>, Keep)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = Blocking::new(FileStore::open(dir.path().join("store")).expect("open file store"));
    let server = RedisServer::start();
    let redis = redis_store(&server, "contract").await;
    vec![
        ("memory", Arc::new(MemoryStore::new()), Box::new(())),
        ("file", Arc::new(file), Box::new(dir)),
        ("redis", Arc::new(redis), Box::new(server)),
    ]
}
