//! The store contract, run against every backend: memory, file and Redis (a real
//! `redis-server` on a free loopback port, started by the test). Backend-specific tests
//! follow in `file_only` and `redis_only`.

use std::sync::Arc;

use kiln_tests::redis::RedisServer;
use kiln_wire::store::{Precondition, StoreError};

use super::testing::{backends, redis_store};
use super::{FileStore, KvStore, RedisConfig, RedisStore};

#[tokio::test]
async fn get_put_and_versions() {
    for (name, s, _keep) in backends().await {
        assert_eq!(s.get("a/b.json").await, Ok(None), "{name}");
        let v1 = s.put("a/b.json", b"one".to_vec(), Precondition::Absent).await.expect(name);
        let got = s.get("a/b.json").await.expect(name).expect(name);
        assert_eq!((got.value.as_slice(), got.version), (&b"one"[..], v1), "{name}");
        assert_eq!(
            s.put("a/b.json", b"x".to_vec(), Precondition::Absent).await,
            Err(StoreError::Conflict),
            "{name}"
        );
        let v2 = s.put("a/b.json", b"two".to_vec(), Precondition::Matches(v1)).await.expect(name);
        assert_ne!(v1, v2, "{name}: new bytes, new version");
        assert_eq!(
            s.put("a/b.json", b"stale".to_vec(), Precondition::Matches(v1)).await,
            Err(StoreError::Conflict),
            "{name}: stale version"
        );
        assert_eq!(
            s.get("a/b.json").await.expect(name).expect(name).value,
            b"two",
            "{name}: conflict wrote nothing"
        );
        s.put("a/b.json", b"three".to_vec(), Precondition::Any).await.expect(name);
        assert_eq!(
            s.put("new", b"x".to_vec(), Precondition::Matches(v2)).await,
            Err(StoreError::Conflict),
            "{name}: version of a missing key"
        );
    }
}

#[tokio::test]
async fn delete_honours_preconditions() {
    for (name, s, _keep) in backends().await {
        assert_eq!(s.delete("k", Precondition::Any).await, Ok(false), "{name}");
        let v = s.put("k", b"v".to_vec(), Precondition::Absent).await.expect(name);
        assert_eq!(s.delete("k", Precondition::Absent).await, Err(StoreError::Conflict), "{name}");
        assert_eq!(s.delete("k", Precondition::Matches(v ^ 1)).await, Err(StoreError::Conflict), "{name}");
        assert_eq!(s.delete("k", Precondition::Matches(v)).await, Ok(true), "{name}");
        assert_eq!(s.get("k").await, Ok(None), "{name}");
    }
}

#[tokio::test]
async fn list_by_prefix_is_sorted_and_exact() {
    for (name, s, _keep) in backends().await {
        for key in
            ["conversations/b.json", "conversations/a.json", "conversationsx", "sessions/t1/s.json", "z"]
        {
            s.put(key, b"{}".to_vec(), Precondition::Absent).await.expect(name);
        }
        assert_eq!(
            s.list("conversations/").await.expect(name),
            vec!["conversations/a.json", "conversations/b.json"],
            "{name}"
        );
        assert_eq!(s.list("conversations").await.expect(name).len(), 3, "{name}");
        assert_eq!(s.list("sessions/t1/").await.expect(name), vec!["sessions/t1/s.json"], "{name}");
        assert_eq!(s.list("").await.expect(name).len(), 5, "{name}");
        assert_eq!(s.list("nothing/").await.expect(name), Vec::<String>::new(), "{name}");
    }
}

#[tokio::test]
async fn malformed_keys_are_refused_everywhere() {
    for (name, s, _keep) in backends().await {
        for bad in ["../escape", "/abs", "a//b", ".kiln/lock", "a/.hidden", ""] {
            assert!(matches!(s.get(bad).await, Err(StoreError::InvalidKey(_))), "{name} get {bad:?}");
            assert!(
                matches!(s.put(bad, vec![], Precondition::Any).await, Err(StoreError::InvalidKey(_))),
                "{name} put {bad:?}"
            );
            assert!(
                matches!(s.delete(bad, Precondition::Any).await, Err(StoreError::InvalidKey(_))),
                "{name} delete {bad:?}"
            );
        }
    }
}

/// Adds 1 to the number under `counter` `times` times with read-then-compare-and-swap,
/// re-reading on every conflict; returns how many conflicts it met.
async fn increment(s: &dyn KvStore, times: usize) -> usize {
    let mut conflicts = 0;
    for _ in 0..times {
        loop {
            let cur = s.get("counter").await.expect("get");
            let n: usize =
                cur.as_ref().map_or(0, |e| String::from_utf8_lossy(&e.value).parse().expect("num"));
            let pre = Precondition::unchanged_since(cur.as_ref());
            match s.put("counter", (n + 1).to_string().into_bytes(), pre).await {
                Ok(_) => break,
                Err(StoreError::Conflict) => conflicts += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    conflicts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_compare_and_swap_loses_no_update() {
    const TASKS: usize = 8;
    const INCREMENTS: usize = 25;
    for (name, s, _keep) in backends().await {
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let s = Arc::clone(&s);
            handles.push(tokio::spawn(async move { increment(s.as_ref(), INCREMENTS).await }));
        }
        for h in handles {
            h.await.expect("task");
        }
        let value = s.get("counter").await.expect(name).expect(name).value;
        assert_eq!(String::from_utf8_lossy(&value), (TASKS * INCREMENTS).to_string(), "{name}");
    }
}

mod file_only {
    use std::fs;

    use kiln_wire::store::Store;

    use super::*;

    #[test]
    fn a_hand_edit_changes_the_version_and_fails_a_stale_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = FileStore::open(dir.path()).expect("open");
        let v = s.put("conversations/index.json", b"{\"queue\":[]}", Precondition::Absent).expect("put");
        fs::write(dir.path().join("conversations/index.json"), b"{\"queue\":[\"x\"]}").expect("hand edit");
        assert_eq!(
            s.put("conversations/index.json", b"{}", Precondition::Matches(v)),
            Err(StoreError::Conflict)
        );
        assert_eq!(
            fs::read(dir.path().join("conversations/index.json")).expect("read"),
            b"{\"queue\":[\"x\"]}"
        );
    }

    #[test]
    fn files_live_at_their_key_and_stray_files_are_not_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = FileStore::open(dir.path()).expect("open");
        s.put("conversations/abc.json", b"{}", Precondition::Absent).expect("put");
        assert!(dir.path().join("conversations/abc.json").is_file());
        fs::write(dir.path().join("conversations/.abc.json.swp"), b"editor").expect("swap file");
        fs::write(dir.path().join("conversations/has space"), b"x").expect("odd name");
        assert_eq!(s.list("").expect("list"), vec!["conversations/abc.json"]);
    }

    #[test]
    fn temp_files_of_a_dead_writer_are_cleaned_and_never_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = FileStore::open(dir.path()).expect("open");
        let stale = dir.path().join(".kiln/tmp/99999-0");
        fs::write(&stale, b"half a write").expect("stale temp");
        s.put("k", b"v", Precondition::Absent).expect("put");
        assert!(!stale.exists());
        assert_eq!(s.list("").expect("list"), vec!["k"]);
    }

    #[test]
    fn io_failures_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = FileStore::open(dir.path()).expect("open");
        s.put("a", b"file", Precondition::Absent).expect("put");
        // `a` is a file, so `a/b` cannot be created.
        let err = s.put("a/b", b"x", Precondition::Any).expect_err("a is a file");
        assert!(
            matches!(&err, StoreError::Backend(m) if m.contains(&dir.path().join("a").display().to_string())),
            "{err}"
        );
        assert_eq!(s.get("a/b"), Ok(None));
    }
}

mod redis_only {
    use std::time::{Duration, Instant};

    use super::*;

    /// `PTTL` of a store key's Redis hash: -1 = no TTL, -2 = no such key.
    fn pttl(server: &RedisServer, store: &RedisStore, key: &str) -> i64 {
        let reply = server.command(&format!("PTTL {}", store.data_key(key)));
        reply.strip_prefix(':').and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("PTTL reply {reply:?}"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_clients_compare_and_swap_without_losing_an_update() {
        const CLIENTS: usize = 4;
        const TASKS_PER_CLIENT: usize = 8;
        const INCREMENTS: usize = 40;
        let server = RedisServer::start();
        let mut handles = Vec::new();
        for _ in 0..CLIENTS {
            // Separate stores = separate connections, as separate processes would have.
            let s = Arc::new(redis_store(&server, "cas").await);
            for _ in 0..TASKS_PER_CLIENT {
                let s = Arc::clone(&s);
                handles.push(tokio::spawn(async move { increment(s.as_ref(), INCREMENTS).await }));
            }
        }
        let mut conflicts = 0;
        for h in handles {
            conflicts += h.await.expect("task");
        }
        let s = redis_store(&server, "cas").await;
        let value = s.get("counter").await.expect("get").expect("counter").value;
        assert_eq!(String::from_utf8_lossy(&value), (CLIENTS * TASKS_PER_CLIENT * INCREMENTS).to_string());
        assert!(conflicts > 0, "32 tasks racing on one key never conflicted: the test did not race");
    }

    #[tokio::test]
    async fn listing_pages_through_many_keys_in_order() {
        let server = RedisServer::start();
        let s = redis_store(&server, "many").await;
        let mut expected = Vec::new();
        for i in 0..1500 {
            let key = format!("conversations/{i:05}.json");
            s.put(&key, b"{}".to_vec(), Precondition::Absent).await.expect("put");
            expected.push(key);
        }
        for i in 0..300 {
            s.put(&format!("sessions/s{i}.json"), b"{}".to_vec(), Precondition::Absent).await.expect("put");
        }
        s.put("conversationsx", b"{}".to_vec(), Precondition::Absent).await.expect("put");
        assert_eq!(s.list("conversations/").await.expect("list"), expected);
        assert_eq!(s.list("sessions/").await.expect("list").len(), 300);
        assert_eq!(s.list("").await.expect("list").len(), 1801);
        for key in expected.iter().step_by(3) {
            assert_eq!(s.delete(key, Precondition::Any).await, Ok(true));
        }
        let left: Vec<String> =
            expected.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, k)| k.clone()).collect();
        assert_eq!(s.list("conversations/").await.expect("list"), left);
    }

    #[tokio::test]
    async fn deployments_do_not_see_each_other() {
        let server = RedisServer::start();
        let (a, b) = (redis_store(&server, "a").await, redis_store(&server, "b").await);
        let va = a.put("conversations/index.json", b"A".to_vec(), Precondition::Absent).await.expect("put a");
        b.put("conversations/index.json", b"B".to_vec(), Precondition::Absent).await.expect("put b");
        b.put("only-b", b"B".to_vec(), Precondition::Absent).await.expect("put b");
        assert_eq!(a.get("conversations/index.json").await.expect("get").expect("a").value, b"A");
        assert_eq!(b.get("conversations/index.json").await.expect("get").expect("b").value, b"B");
        assert_eq!(a.list("").await.expect("list"), vec!["conversations/index.json"]);
        assert_eq!(b.list("").await.expect("list"), vec!["conversations/index.json", "only-b"]);
        assert_eq!(b.delete("conversations/index.json", Precondition::Any).await, Ok(true));
        assert_eq!(a.get("conversations/index.json").await.expect("get").expect("a").version, va);
        assert!(a.data_key("k").starts_with("kiln:{a}:"), "{}", a.data_key("k"));
    }

    #[tokio::test]
    async fn sessions_get_a_ttl_refreshed_by_every_write_and_archives_keep_forever() {
        let server = RedisServer::start();
        let config = RedisConfig {
            deployment: "ttl".into(),
            session_ttl: Some(Duration::from_secs(60)),
            ..RedisConfig::new(server.url())
        };
        let s = RedisStore::connect(&config).await.expect("connect");
        let session = "tenants/acme/sessions/s1.json";
        s.put(session, b"{}".to_vec(), Precondition::Absent).await.expect("put");
        s.put("archive/sessions/s0.json", b"{}".to_vec(), Precondition::Absent).await.expect("put");
        s.put("conversations/index.json", b"{}".to_vec(), Precondition::Absent).await.expect("put");
        let first = pttl(&server, &s, session);
        assert!((1..=60_000).contains(&first), "session TTL {first} ms");
        assert_eq!(pttl(&server, &s, "archive/sessions/s0.json"), -1, "archives never expire");
        assert_eq!(pttl(&server, &s, "conversations/index.json"), -1, "the queue never expires");
        // Time passing, without waiting for it: Redis's clock cannot be moved, but the TTL
        // it counts down can, to what it would be 59 s later.
        let data_key = s.data_key(session);
        assert_eq!(server.command(&format!("PEXPIRE {data_key} 1000")), ":1");
        let aged = pttl(&server, &s, session);
        assert!((1..=1000).contains(&aged), "TTL runs down: {first} then {aged}");
        s.put(session, b"{\"turn\":2}".to_vec(), Precondition::Any).await.expect("activity");
        let refreshed = pttl(&server, &s, session);
        assert!(refreshed > 50_000, "a write refreshes the TTL: {aged} then {refreshed}");
    }

    #[tokio::test]
    async fn oauth_records_expire_in_redis_by_themselves() {
        let server = RedisServer::start();
        let s = redis_store(&server, "oauth").await;
        let record = "kiln-host/oauth/0123456789abcdef0123456789abcdef.json";
        s.put(record, b"{}".to_vec(), Precondition::Absent).await.expect("put");
        s.put("kiln-host/tokens/local/0000000000000000/gmail.json", b"{}".to_vec(), Precondition::Absent)
            .await
            .expect("put");
        let ttl = pttl(&server, &s, record);
        assert!((1..=24 * 3600 * 1000).contains(&ttl), "an OAuth record's TTL is {ttl} ms");
        assert_eq!(
            pttl(&server, &s, "kiln-host/tokens/local/0000000000000000/gmail.json"),
            -1,
            "connected tokens never expire by TTL"
        );
    }

    #[tokio::test]
    async fn an_expired_session_vanishes_from_reads_and_listings() {
        let server = RedisServer::start();
        let config = RedisConfig {
            deployment: "expiry".into(),
            session_ttl: Some(Duration::from_secs(60)),
            ..RedisConfig::new(server.url())
        };
        let s = RedisStore::connect(&config).await.expect("connect");
        s.put("sessions/gone.json", b"{}".to_vec(), Precondition::Absent).await.expect("put");
        s.put("sessions/kept.json", b"{}".to_vec(), Precondition::Absent).await.expect("put");
        // `gone`'s TTL runs out, without waiting for it: an expiry time in the past makes
        // Redis drop the key as its own expiry would, leaving the index entry behind.
        let gone = s.data_key("sessions/gone.json");
        assert_eq!(server.command(&format!("PEXPIREAT {gone} 1")), ":1");
        assert_eq!(s.get("sessions/gone.json").await, Ok(None));
        assert_eq!(s.list("sessions/").await.expect("list"), vec!["sessions/kept.json"]);
        // The listing dropped the expired key from the index too.
        assert_eq!(server.command("ZCARD kiln:{expiry}:index"), ":1");
        // A stale version of an expired key is a conflict, not a resurrection.
        assert_eq!(
            s.put("sessions/gone.json", b"x".to_vec(), Precondition::Matches(1)).await,
            Err(StoreError::Conflict)
        );
    }

    #[tokio::test]
    async fn an_outage_and_the_recovery_are_logged_once_each() {
        let mut server = RedisServer::start();
        let mut s = redis_store(&server, "health").await;
        let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&lines);
        s.log_health_to(Arc::new(move |m: &str| sink.lock().expect("log").push(m.to_owned())));
        s.put("k", b"v".to_vec(), Precondition::Absent).await.expect("put");
        server.kill();
        for _ in 0..5 {
            assert!(s.get("k").await.is_err(), "redis is down");
        }
        server.restart();
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.put("k", b"again".to_vec(), Precondition::Any).await.is_err() {
            assert!(Instant::now() < deadline, "no service after the restart");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for _ in 0..3 {
            s.get("k").await.expect("served");
        }
        let lines = lines.lock().expect("log").clone();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains("does not answer") && lines[0].contains(&server.url()), "{lines:#?}");
        assert!(lines[1].contains("answers again"), "{lines:#?}");
    }

    #[tokio::test]
    async fn an_outage_gives_clear_errors_and_service_resumes_without_a_new_store() {
        let mut server = RedisServer::start();
        let s = redis_store(&server, "outage").await;
        s.put("k", b"before".to_vec(), Precondition::Absent).await.expect("put");
        server.kill();
        for _ in 0..3 {
            let started = Instant::now();
            let err = s.put("k", b"during".to_vec(), Precondition::Any).await.expect_err("redis is down");
            let StoreError::Backend(message) = &err else { panic!("not a backend error: {err}") };
            assert!(message.contains(&server.url()), "{message}");
            assert!(message.contains("Check that Redis is running"), "{message}");
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "an outage error took {:?}",
                started.elapsed()
            );
            assert!(matches!(s.get("k").await, Err(StoreError::Backend(_))));
            assert!(matches!(s.list("").await, Err(StoreError::Backend(_))));
        }
        server.restart();
        // The connection manager reconnects on its own; a request may still see the
        // failure of the attempt that began during the outage.
        let deadline = Instant::now() + Duration::from_secs(10);
        let version = loop {
            match s.put("k", b"after".to_vec(), Precondition::Absent).await {
                Ok(v) => break v,
                Err(StoreError::Backend(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no service after the restart: {e}"),
            }
        };
        // The restarted server kept nothing (no persistence): `k` was absent again.
        let got = s.get("k").await.expect("get").expect("k");
        assert_eq!((got.value.as_slice(), got.version), (&b"after"[..], version));
        assert_eq!(s.list("").await.expect("list"), vec!["k"]);
    }
}
