//! The built kiln.wasm component exercised through the real wasmtime host: queue behaviour,
//! determinism against the native core, limits and traps that lose nothing, the disk cache.

use std::collections::BTreeMap;
use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use kiln_core::{Entry, NewConversation, Precondition, QueueError, Store, StoreError, UnixTime, Version};
use kiln_engine::runtime::ComponentSource;
use kiln_engine::{EngineError, Imports, Limits, QueueClient, QueueFailure, Runtime, RuntimeOptions};
use kiln_store::{KvStore, MemoryStore};

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiln-component-cache")
}

fn runtime_with(limits: Limits) -> Arc<Runtime> {
    let options = RuntimeOptions { cache_dir: Some(cache_dir()), limits, ..Default::default() };
    Arc::new(Runtime::new(&options).expect("runtime"))
}

fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    Arc::clone(RUNTIME.get_or_init(|| runtime_with(Limits::default())))
}

struct FixedClock;
impl kiln_core::Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime { seconds: 1_795_316_842, nanoseconds: 42_000 }
    }
}

/// xorshift64: the same seed, the same bytes, on every host.
struct Seeded(AtomicU64);
impl Seeded {
    fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
    fn next(&self) -> u64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        x
    }
}
impl kiln_core::Entropy for Seeded {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
        }
    }
}

fn deterministic(store: Arc<dyn KvStore>) -> Imports {
    Imports { clock: Arc::new(FixedClock), random: Arc::new(Seeded::new(0x5eed)), ..Imports::system(store) }
}

fn memory_queue() -> (QueueClient, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (QueueClient::new(runtime(), Imports::system(store.clone())), store)
}

fn new(prompt: &str) -> NewConversation {
    NewConversation { prompt: prompt.into(), ..Default::default() }
}

#[tokio::test]
async fn queue_through_the_component() {
    let (q, _) = memory_queue();
    assert_eq!(q.next().await.expect("next on empty"), (None, vec![]));
    let a = q.add(new("first")).await.expect("add").conversation_id;
    let b = q.add(new("second")).await.expect("add").conversation_id;
    let c = q.add(new("third")).await.expect("add").conversation_id;
    assert_eq!(
        q.list().await.expect("list").0.iter().map(|c| &c.conversation_id).collect::<Vec<_>>(),
        [&a, &b, &c]
    );

    assert_eq!(q.next().await.expect("next").0.expect("some").conversation_id, a);
    let started = q.start(&c).await.expect("start");
    assert!(started.was_queued);
    assert!(!q.start(&c).await.expect("start again").was_queued, "start is idempotent");
    assert_eq!(q.list().await.expect("list").0.len(), 1);

    match q.start("2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10").await {
        Err(QueueFailure::Queue(QueueError::NotFound(_))) => {}
        other => panic!("expected not-found, got {other:?}"),
    }
    match q.add(new("   ")).await {
        Err(QueueFailure::Queue(QueueError::InvalidInput(m))) => {
            assert!(m.contains("prompt is empty"), "{m}")
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }

    let step = NewConversation {
        prompt: "approve the draft?".into(),
        workflow_id: Some("wf-9".into()),
        metadata: BTreeMap::from([("step".into(), "approval".into())]),
    };
    let paused = q.conversation_step(step).await.expect("step");
    let started = q.start(&paused).await.expect("start paused");
    assert_eq!(started.conversation.workflow_id.as_deref(), Some("wf-9"));
    assert_eq!(started.conversation.metadata["step"], "approval");
}

/// Same imports in, same outputs out: the component on wasmtime writes byte-for-byte what
/// the native core writes, and two component runs agree.
#[tokio::test]
async fn the_component_matches_the_native_core_byte_for_byte() {
    async fn through_component() -> BTreeMap<String, Vec<u8>> {
        let store = Arc::new(MemoryStore::new());
        let q = QueueClient::new(runtime(), deterministic(store.clone()));
        for p in ["one", "two", "three"] {
            q.add(new(p)).await.expect("add");
        }
        q.next().await.expect("next");
        let meta = BTreeMap::from([("k".into(), "v".into())]);
        let step = NewConversation { prompt: "wf".into(), workflow_id: Some("w".into()), metadata: meta };
        q.conversation_step(step).await.expect("step");
        store.snapshot()
    }
    let native_store = MemoryStore::new();
    let q = kiln_core::Queue::new(&native_store, FixedClock, Seeded::new(0x5eed));
    for p in ["one", "two", "three"] {
        q.add(new(p)).expect("add");
    }
    q.next().expect("next");
    q.conversation_step("wf".into(), "w".into(), BTreeMap::from([("k".into(), "v".into())])).expect("step");

    let first = through_component().await;
    assert_eq!(first.len(), 5, "index + four conversations");
    assert_eq!(first, through_component().await, "two component runs agree");
    assert_eq!(first, native_store.snapshot(), "the component and the native core agree");
}
fn expect_trap(result: Result<impl std::fmt::Debug, QueueFailure>, needle: &str) {
    match result {
        Err(QueueFailure::Engine(EngineError::Trap { reason, .. })) => {
            assert!(reason.contains(needle), "trap reason {reason:?} should mention {needle:?}")
        }
        other => panic!("expected a trap mentioning {needle:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn running_out_of_fuel_is_a_clear_error_and_loses_nothing() {
    let store = Arc::new(MemoryStore::new());
    let good = QueueClient::new(runtime(), Imports::system(store.clone()));
    good.add(new("kept")).await.expect("add");
    let before = store.snapshot();

    let starved = runtime_with(Limits { fuel: 10_000, ..Limits::default() });
    let q = QueueClient::new(starved, Imports::system(store.clone()));
    expect_trap(q.add(new("x".repeat(100_000).as_str())).await, "fuel");
    expect_trap(q.list().await, "fuel");
    assert_eq!(store.snapshot(), before, "a trapped call changed nothing");
    assert_eq!(good.next().await.expect("next").0.expect("some").prompt, "kept");
}

#[tokio::test]
async fn the_memory_limit_stops_a_huge_request_without_harm() {
    let store = Arc::new(MemoryStore::new());
    let small = runtime_with(Limits { memory_bytes: 2 << 20, ..Limits::default() });
    let q = QueueClient::new(small, Imports::system(store.clone()));
    q.add(new("small one")).await.expect("a small add fits");
    let before = store.snapshot();
    // 3 MiB cannot even be copied into a 2 MiB guest memory.
    let err = q.add(new(&"y".repeat(3 << 20))).await.expect_err("over the memory limit");
    assert!(matches!(err, QueueFailure::Engine(EngineError::Trap { .. })), "{err:?}");
    assert_eq!(store.snapshot(), before);
}

/// A store that answers slower than the call's deadline.
struct Slow(MemoryStore);

#[async_trait]
impl KvStore for Slow {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Store::get(&self.0, key)
    }
    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        Store::put(&self.0, key, &value, expected)
    }
    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        Store::delete(&self.0, key, expected)
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Store::list(&self.0, prefix)
    }
    fn locate(&self, key: &str) -> String {
        key.into()
    }
}

#[tokio::test]
async fn the_epoch_deadline_stops_a_call_that_runs_too_long() {
    let rt = runtime_with(Limits { deadline: Duration::from_millis(50), ..Limits::default() });
    let q = QueueClient::new(rt, Imports::system(Arc::new(Slow(MemoryStore::new()))));
    expect_trap(q.list().await, "deadline");
}

/// A store that fails every operation, or returns hostile bytes.
struct Broken {
    garbage: bool,
}

#[async_trait]
impl KvStore for Broken {
    async fn get(&self, _: &str) -> Result<Option<Entry>, StoreError> {
        if self.garbage {
            Ok(Some(Entry { value: vec![0xff, 0x00, b'{'], version: 1 }))
        } else {
            Err(StoreError::Backend("disk on fire".into()))
        }
    }
    async fn put(&self, _: &str, _: Vec<u8>, _: Precondition) -> Result<Version, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
    async fn delete(&self, _: &str, _: Precondition) -> Result<bool, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
    async fn list(&self, _: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
    fn locate(&self, key: &str) -> String {
        key.into()
    }
}

#[tokio::test]
async fn store_failures_and_hostile_bytes_are_typed_errors_not_traps() {
    let failing = QueueClient::new(runtime(), Imports::system(Arc::new(Broken { garbage: false })));
    match failing.add(new("x")).await {
        Err(QueueFailure::Queue(QueueError::Store(StoreError::Backend(m)))) => assert_eq!(m, "disk on fire"),
        other => panic!("expected the store's error, got {other:?}"),
    }
    let hostile = QueueClient::new(runtime(), Imports::system(Arc::new(Broken { garbage: true })));
    match hostile.next().await {
        Err(QueueFailure::Queue(QueueError::Corrupt { key, .. })) => {
            assert_eq!(key, "conversations/index.json")
        }
        other => panic!("expected corrupt, got {other:?}"),
    }
}

#[test]
fn the_component_compiled_at_build_time_is_loaded_without_a_compile_or_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = RuntimeOptions { cache_dir: Some(dir.path().join("cache")), ..Default::default() };
    assert_eq!(Runtime::new(&options).expect("runtime").source(), &ComponentSource::Precompiled);
    assert!(!dir.path().join("cache").exists(), "the cache was not even created");
}

/// The cache for engines whose settings differ from the build's (here: the embedded
/// artifact turned off).
fn cache_options(dir: &std::path::Path) -> RuntimeOptions {
    RuntimeOptions { cache_dir: Some(dir.to_path_buf()), use_precompiled: false, ..Default::default() }
}

fn compiled(refused: Option<&str>) -> ComponentSource {
    ComponentSource::Compiled { cache_refused: refused.map(str::to_owned) }
}

#[test]
fn the_compiled_component_is_cached_and_a_bad_cache_entry_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("kiln");
    let options = cache_options(&cache);
    assert_eq!(Runtime::new(&options).expect("first").source(), &compiled(None), "empty cache: compiles");
    let mode = std::fs::metadata(&cache).expect("cache dir").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is the user's alone");
    assert_eq!(
        Runtime::new(&options).expect("second").source(),
        &ComponentSource::Cache,
        "warm cache: loads"
    );
    let entries: Vec<_> = std::fs::read_dir(&cache).expect("read cache").flatten().collect();
    assert_eq!(entries.len(), 1, "exactly one cache entry, no temp files left");
    let entry = entries[0].path();
    assert_eq!(std::fs::metadata(&entry).expect("entry").permissions().mode() & 0o777, 0o600);
    std::fs::write(&entry, b"not a compiled component").expect("corrupt the cache");
    assert_eq!(Runtime::new(&options).expect("third").source(), &compiled(None), "bad entry: recompiled");
    assert_eq!(Runtime::new(&options).expect("fourth").source(), &ComponentSource::Cache, "and rewritten");
}

#[test]
fn a_cache_others_can_write_is_never_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = cache_options(dir.path());
    std::fs::set_permissions(dir.path(), Permissions::from_mode(0o700)).expect("chmod");
    assert_eq!(Runtime::new(&options).expect("fill").source(), &compiled(None));
    let entry = std::fs::read_dir(dir.path()).expect("read").flatten().next().expect("an entry").path();

    // An entry others may write is not loaded (anyone could have put code there); the
    // fresh compile replaces it with one only the user can write.
    std::fs::set_permissions(&entry, Permissions::from_mode(0o666)).expect("chmod entry");
    assert_eq!(Runtime::new(&options).expect("entry").source(), &compiled(None));
    assert_eq!(std::fs::metadata(&entry).expect("entry").permissions().mode() & 0o777, 0o600);
    assert_eq!(Runtime::new(&options).expect("replaced").source(), &ComponentSource::Cache);

    // A directory others may write is neither read nor written, and the runtime says why.
    std::fs::set_permissions(dir.path(), Permissions::from_mode(0o777)).expect("chmod dir");
    let runtime = Runtime::new(&options).expect("compiles instead");
    let ComponentSource::Compiled { cache_refused: Some(why) } = runtime.source() else {
        panic!("expected a refused cache, got {:?}", runtime.source())
    };
    assert!(why.contains("is writable by other users") && why.contains("chmod go-w"), "{why}");

    // A symlink in place of the entry is not followed.
    std::fs::set_permissions(dir.path(), Permissions::from_mode(0o700)).expect("chmod dir back");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let target = elsewhere.path().join("planted.cwasm");
    std::fs::rename(&entry, &target).expect("move the entry away");
    std::os::unix::fs::symlink(&target, &entry).expect("symlink");
    assert_eq!(Runtime::new(&options).expect("symlink").source(), &compiled(None));
    assert!(std::fs::symlink_metadata(&entry).expect("entry").is_file(), "replaced by a real file");
}

#[test]
fn two_runtimes_filling_one_cache_at_once_both_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = cache_options(dir.path());
    let sources: Vec<ComponentSource> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| Runtime::new(&options).expect("runtime").source().clone()))
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    // With one temp name per process (as before), one runtime's rename found the other's
    // temp file gone and its write failed.
    let ok = |s: &ComponentSource| {
        matches!(s, ComponentSource::Compiled { cache_refused: None } | ComponentSource::Cache)
    };
    assert!(sources.iter().all(ok), "{sources:?}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "one entry, no temp file left behind: {names:?}");
    assert!(names[0].starts_with("kiln-") && names[0].ends_with(".cwasm"), "{names:?}");
    assert_eq!(Runtime::new(&options).expect("after").source(), &ComponentSource::Cache);
}

#[test]
fn the_component_imports_only_the_kiln_world() {
    let engine = wasmtime::Engine::default();
    let component =
        wasmtime::component::Component::new(&engine, kiln_engine::runtime::COMPONENT).expect("component");
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(&engine).map(|(name, _)| name.to_owned()).collect();
    assert_eq!(
        imports,
        [
            "kiln:engine/store@0.3.2",
            "kiln:engine/clock@0.3.2",
            "kiln:engine/random@0.3.2",
            "kiln:engine/llm@0.3.2",
            "kiln:engine/builder-types@0.3.2",
            "kiln:engine/emit@0.3.2",
        ]
    );
    let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_owned()).collect();
    assert_eq!(exports, ["kiln:engine/queue@0.3.2", "kiln:engine/builder@0.3.2"]);
}

/// Warm instances are only a speed-up: a runtime that reuses instances and one that
/// instantiates for every call give the same answers and write the same bytes, through
/// typed errors, an instance that grew too large to keep and one that trapped.
#[tokio::test]
async fn warm_instances_answer_exactly_like_fresh_ones() {
    use kiln_core::builder::{Caller, TurnOptions};
    use kiln_engine::builder::{BuilderClient, TurnInput};
    use kiln_engine::imports::Silent;

    async fn script(reuse_instances: bool) -> (Vec<String>, BTreeMap<String, Vec<u8>>, u64) {
        // One call at a time, so a kept instance is always the one the next call gets.
        let limits = Limits { memory_bytes: 32 << 20, ..Limits::default() };
        let options = RuntimeOptions {
            cache_dir: Some(cache_dir()),
            limits,
            max_concurrent_calls: 1,
            reuse_instances,
            ..Default::default()
        };
        let rt = Arc::new(Runtime::new(&options).expect("runtime"));
        let store = Arc::new(MemoryStore::new());
        let b = BuilderClient::new(rt.clone(), deterministic(store.clone()));
        let q = QueueClient::new(rt.clone(), deterministic(store.clone()));
        let who = Caller { tenant_id: "t".into(), user_id: "u".into() };
        let offline = TurnOptions { llm: false, ..TurnOptions::default() };
        let id = b.start_session(&who).await.expect("start").session_id;
        let mut seen = Vec::new();
        let lines = [
            "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
            "status",
            // 10 MiB: refused as too long, after the copy grew the instance past what is kept.
            &"post it to #ops ".repeat(640 << 10),
            "help",
        ];
        for line in lines {
            let turn =
                b.turn(&who, &id, TurnInput::Message(line.to_owned()), offline, Arc::new(Silent)).await;
            seen.push(format!("{turn:?}"));
        }
        let unknown = b.turn(&who, "no-such-session", TurnInput::Back, offline, Arc::new(Silent)).await;
        seen.push(format!("{unknown:?}"));
        q.add(new("kept")).await.expect("add");
        // Over the 32 MiB limit: this call traps, and its instance must not serve again.
        let trapped = q.add(new(&"y".repeat(40 << 20))).await;
        assert!(matches!(trapped, Err(QueueFailure::Engine(EngineError::Trap { .. }))), "{trapped:?}");
        seen.push(format!("{:?}", q.next().await));
        seen.push(format!("{:?}", b.get_session(&who, &id).await));
        (seen, store.snapshot(), rt.instantiations())
    }

    let (warm, warm_store, warm_instances) = script(true).await;
    let (fresh, fresh_store, fresh_instances) = script(false).await;
    assert_eq!(warm, fresh, "same answers");
    assert_eq!(warm_store, fresh_store, "same stored bytes");
    assert!(warm[2].contains("InvalidInput") && warm[4].contains("NotFound"), "{:.300} {}", warm[2], warm[4]);
    // 10 calls; warm: the first instance, one after the grown one, one after the trap.
    assert_eq!(fresh_instances, 10);
    assert_eq!(warm_instances, 3);
}
