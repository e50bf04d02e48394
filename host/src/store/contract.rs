//! The store contract, run against every backend. (The Redis backend joins this list when
//! it lands.)

use std::sync::Arc;

use kiln_core::{Precondition, StoreError};

use super::{Blocking, FileStore, KvStore, MemoryStore};

/// Every backend, each fresh; the temp dir lives as long as the file store is used.
fn backends() -> Vec<(&'static str, Arc<dyn KvStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = Blocking::new(FileStore::open(dir.path().join("store")).expect("open file store"));
    vec![("memory", Arc::new(MemoryStore::new()), None), ("file", Arc::new(file), Some(dir))]
}

#[tokio::test]
async fn get_put_and_versions() {
    for (name, s, _dir) in backends() {
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
    for (name, s, _dir) in backends() {
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
    for (name, s, _dir) in backends() {
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
    for (name, s, _dir) in backends() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_compare_and_swap_loses_no_update() {
    const TASKS: usize = 8;
    const INCREMENTS: usize = 25;
    for (name, s, _dir) in backends() {
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let s = Arc::clone(&s);
            handles.push(tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    loop {
                        let cur = s.get("counter").await.expect("get");
                        let n: usize = cur
                            .as_ref()
                            .map_or(0, |e| String::from_utf8_lossy(&e.value).parse().expect("num"));
                        let pre = Precondition::unchanged_since(cur.as_ref());
                        match s.put("counter", (n + 1).to_string().into_bytes(), pre).await {
                            Ok(_) => break,
                            Err(StoreError::Conflict) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }));
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

    use kiln_core::Store;

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
