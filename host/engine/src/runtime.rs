//! One wasmtime `Engine` and one `InstancePre` per process. Each guest call runs on a warm
//! instance (its own `Store`) taken from a free list, with fresh fuel and a fresh epoch
//! deadline; an instance that trapped or grew large is dropped, never reused. The component
//! is compiled ahead of time by `build.rs` and embedded, so a CLI call deserializes it
//! instead of JIT-compiling it (seconds); an engine whose settings differ from the build's
//! uses the compiled component cached on disk, in a directory only the user can write.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kiln_store::MemoryStore;
use rustix::fs::OFlags;
use thiserror::Error;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Precompiled, Store, Trap};

use crate::bindings;
use crate::imports::Imports;
use crate::imports::{HostState, MemoryLimiter};

mod config;

/// The component this binary embeds (built by `build.rs`).
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kiln.wasm"));
/// SHA-256 of [`COMPONENT`], computed at build time.
pub const COMPONENT_SHA256: &str = env!("KILN_COMPONENT_SHA256");
/// [`COMPONENT`] compiled by `build.rs` for this binary's own target with
/// [`config::engine_config`]'s settings (empty if the build could not compile it).
const PRECOMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kiln.cwasm"));
/// [`config::compatibility_key`] of the engine that compiled [`PRECOMPILED`].
const PRECOMPILED_KEY: &str = env!("KILN_PRECOMPILED_KEY");

/// How often the background ticker advances the engine's epoch.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// An instance whose linear memory grew past this is dropped after its call instead of
/// kept warm: one huge request must not pin its memory for good.
const WARM_MEMORY_MAX: usize = 8 << 20;

/// Calls one instance serves before it is replaced, bounding allocator fragmentation.
const WARM_CALLS_MAX: u64 = 10_000;

/// Metric: guest instantiations (few while warm instances are reused).
pub const INSTANTIATIONS: &str = "kiln_engine_instantiations_total";
/// Metric: instances dropped instead of kept warm, by reason (`trap`, `memory`, `calls`).
pub const INSTANCES_DROPPED: &str = "kiln_engine_instances_dropped_total";
/// Metric: 1 when guest memory is bounded by guard pages, 0 on the explicit-checks fallback.
pub const GUARD_PAGES: &str = "kiln_engine_guard_pages";

/// What a single guest call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory, in bytes.
    pub memory_bytes: usize,
    /// Fuel (roughly, wasm instructions) per call: makes runaway loops trap deterministically.
    pub fuel: u64,
    /// Wall-clock backstop per call, host calls included.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: config::DEFAULT_MEMORY_BYTES,
            fuel: 20_000_000_000,
            deadline: Duration::from_secs(60),
        }
    }
}

/// How to build a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled components are cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// Per-call limits.
    pub limits: Limits,
    /// How many guest calls may run at once. Instances, memories and fiber stacks come from
    /// a pool of this size (reused, not mapped afresh per call); a call beyond it waits.
    pub max_concurrent_calls: u32,
    /// Run calls on warm instances (the default) rather than instantiating the guest for
    /// every call. The guest keeps nothing between calls, so only speed differs.
    pub reuse_instances: bool,
    /// Load the component `build.rs` compiled ahead of time when this engine's settings
    /// match the build's (the default); `false` goes to the cache or compiles.
    pub use_precompiled: bool,
    /// Run this component instead of the embedded kiln.wasm (compiled at start, never
    /// cached): for tests with other guests of the same world, e.g. hostile ones.
    pub component: Option<Arc<[u8]>>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            cache_dir: None,
            limits: Limits::default(),
            max_concurrent_calls: config::DEFAULT_MAX_CONCURRENT_CALLS,
            reuse_instances: true,
            use_precompiled: true,
            component: None,
        }
    }
}

impl RuntimeOptions {
    /// The default cache directory: `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else
    /// `$HOME/.cache/kiln`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        var("KILN_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("kiln")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("kiln")))
    }
}

/// Why the engine could not run a call.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The component could not be compiled or linked.
    #[error("could not load the kiln.wasm component: {0}")]
    Load(String),
    /// The guest trapped (or was stopped by a limit). Every store write is atomic, so stored
    /// data is as it was after the last completed write.
    #[error(
        "the engine stopped during `{operation}`: {reason}. Stored data is intact; retry, and report it if it repeats"
    )]
    Trap {
        /// The exported function that was running.
        operation: &'static str,
        /// What stopped it.
        reason: String,
    },
}

/// Where [`Runtime::new`] found the compiled component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// The one `build.rs` compiled ahead of time and embedded: no compile, no file.
    Precompiled,
    /// The on-disk cache (this engine's settings differ from the build's).
    Cache,
    /// Compiled at this start. `cache_refused` says why the cache was not used, if it was
    /// configured but unsafe to load from or write to.
    Compiled {
        /// Why the cache directory or entry was refused, e.g. writable by other users.
        cache_refused: Option<String>,
    },
}

/// One instance of the guest in its own store, ready for its next call.
struct Warm {
    store: Store<HostState>,
    instance: bindings::Engine,
    calls: u64,
}

/// Runs the engine (kiln.wasm): compiled once per process, called many times, each call on a
/// warm instance with that call's [`Imports`].
pub struct Runtime {
    engine: wasmtime::Engine,
    pre: bindings::EnginePre<HostState>,
    limits: Limits,
    /// Where this start found the compiled component.
    source: ComponentSource,
    /// Whether guest memory accesses are checked by guard pages rather than explicit checks.
    guard_pages: bool,
    /// One permit per pool slot: a call beyond the pool waits for a slot instead of failing.
    slots: tokio::sync::Semaphore,
    /// Instances between calls, most recently used last (its memory is the warmest).
    warm: Option<Mutex<Vec<Warm>>>,
    /// What a warm instance holds between calls instead of its last caller's imports, so
    /// that no caller's store or event stream is kept alive by an idle instance.
    parked: Imports,
    instantiations: AtomicU64,
}

impl Runtime {
    /// Loads the embedded component, from the cache when possible.
    pub fn new(options: &RuntimeOptions) -> Result<Self, EngineError> {
        // Guard pages when the process may reserve the address space for them, else
        // explicit bounds checks (e.g. under `ulimit -v` or valgrind): same behaviour, slower.
        let config = |guard_pages| {
            config::engine_config(guard_pages, options.limits.memory_bytes, options.max_concurrent_calls)
        };
        let (engine, guard_pages) = match wasmtime::Engine::new(&config(true)) {
            Ok(engine) => (engine, true),
            Err(_) => (
                wasmtime::Engine::new(&config(false)).map_err(|e| EngineError::Load(format!("{e:#}")))?,
                false,
            ),
        };
        let (component, source) = load_component(&engine, options)?;

        let mut linker = Linker::<HostState>::new(&engine);
        bindings::Engine::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| EngineError::Load(format!("linking the imports: {e:#}")))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| EngineError::Load(format!("the component needs imports this host lacks: {e:#}")))?;
        let pre = bindings::EnginePre::new(instance_pre).map_err(|e| {
            EngineError::Load(format!("the component does not export the kiln:engine world: {e:#}"))
        })?;

        spawn_epoch_ticker(&engine);
        let slots = tokio::sync::Semaphore::new(options.max_concurrent_calls.max(1) as usize);
        Ok(Self {
            engine,
            pre,
            limits: options.limits,
            source,
            guard_pages,
            slots,
            warm: options.reuse_instances.then(|| Mutex::new(Vec::new())),
            parked: Imports::system(Arc::new(MemoryStore::new())),
            instantiations: AtomicU64::new(0),
        })
    }

    /// Where this runtime found the compiled component.
    pub fn source(&self) -> &ComponentSource {
        &self.source
    }

    /// Whether the guest's memory accesses are bounded by guard pages (the fast way: each
    /// memory reserves 4 GiB of address space, none of it resident) rather than by explicit
    /// bounds checks, the fallback where that much address space cannot be reserved.
    pub fn guard_pages(&self) -> bool {
        self.guard_pages
    }

    /// How many times the guest has been instantiated (a warm instance serves many calls).
    pub fn instantiations(&self) -> u64 {
        self.instantiations.load(Ordering::Relaxed)
    }

    /// Runs `call` on a warm instance (or a new one), with this call's imports, full fuel
    /// and a fresh deadline.
    pub(crate) async fn call<T>(
        &self,
        operation: &'static str,
        imports: Imports,
        call: impl AsyncFnOnce(&bindings::Engine, &mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, EngineError> {
        // The semaphore is never closed, so acquiring only fails if it were.
        let _slot = self.slots.acquire().await.map_err(|e| EngineError::Load(e.to_string()))?;
        let trap =
            |e: wasmtime::Error| EngineError::Trap { operation, reason: describe_trap(&e, &self.limits) };
        let mut warm = match self.take_warm() {
            Some(warm) => warm,
            None => self.instantiate().await.map_err(trap)?,
        };
        let store = &mut warm.store;
        store.data_mut().imports = imports;
        store.data_mut().chunks.clear();
        store.set_fuel(self.limits.fuel).map_err(trap)?;
        store.set_epoch_deadline(self.deadline_ticks());
        let result = call(&warm.instance, &mut warm.store).await;
        warm.store.data_mut().imports = self.parked.clone();
        // A trapped instance is dropped here: its memory may be mid-update.
        let value = result.map_err(|e| {
            metrics::counter!(INSTANCES_DROPPED, "reason" => "trap").increment(1);
            trap(e)
        })?;
        warm.calls += 1;
        self.keep_warm(warm);
        Ok(value)
    }

    /// The per-call deadline in epoch ticks.
    fn deadline_ticks(&self) -> u64 {
        let ticks = self.limits.deadline.as_millis() / EPOCH_TICK.as_millis();
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }

    fn take_warm(&self) -> Option<Warm> {
        // A poisoned lock means a panic while pushing or popping; a fresh instance is safe.
        self.warm.as_ref()?.lock().ok()?.pop()
    }

    fn keep_warm(&self, warm: Warm) {
        let Some(list) = &self.warm else { return };
        let dropped = if warm.store.data().limits.memory_bytes > WARM_MEMORY_MAX {
            "memory"
        } else if warm.calls >= WARM_CALLS_MAX {
            "calls"
        } else {
            if let Ok(mut list) = list.lock() {
                list.push(warm);
            }
            return;
        };
        metrics::counter!(INSTANCES_DROPPED, "reason" => dropped).increment(1);
    }

    async fn instantiate(&self) -> wasmtime::Result<Warm> {
        let state = HostState {
            imports: self.parked.clone(),
            limits: MemoryLimiter::new(self.limits.memory_bytes),
            chunks: Vec::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        // Instantiation runs the guest's start code too: give it fuel and a deadline.
        store.set_fuel(self.limits.fuel)?;
        store.set_epoch_deadline(self.deadline_ticks());
        let instance = self.pre.instantiate_async(&mut store).await?;
        self.instantiations.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(INSTANTIATIONS).increment(1);
        Ok(Warm { store, instance, calls: 0 })
    }
}

fn describe_trap(e: &wasmtime::Error, limits: &Limits) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!("it used up its fuel ({} units)", limits.fuel),
        Some(Trap::Interrupt) => format!("it ran past its {:?} deadline", limits.deadline),
        Some(trap) => format!("{trap} (memory limit {} MiB)", limits.memory_bytes >> 20),
        None => format!("{e:#}"),
    }
}

/// Advances the epoch so calls past their deadline trap. Holds only a weak reference: the
/// thread ends once the engine is dropped.
fn spawn_epoch_ticker(engine: &wasmtime::Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("kiln-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        // Without the ticker, deadlines never fire but fuel still bounds every call.
        .ok();
}

/// The embedded precompiled component, else the cached one, else a fresh compile written to
/// the cache.
fn load_component(
    engine: &wasmtime::Engine,
    options: &RuntimeOptions,
) -> Result<(Component, ComponentSource), EngineError> {
    if let Some(bytes) = &options.component {
        let component = Component::new(engine, bytes).map_err(|e| EngineError::Load(format!("{e:#}")))?;
        return Ok((component, ComponentSource::Compiled { cache_refused: None }));
    }
    if options.use_precompiled
        && let Some(component) = precompiled(engine)
    {
        return Ok((component, ComponentSource::Precompiled));
    }
    let cache = options.cache_dir.as_deref().map(|dir| Cache::open(dir, engine));
    if let Some(Ok(cache)) = &cache
        && let Some(component) = cache.load(engine)
    {
        return Ok((component, ComponentSource::Cache));
    }
    let component = Component::new(engine, COMPONENT).map_err(|e| EngineError::Load(format!("{e:#}")))?;
    let cache_refused = match cache {
        Some(Ok(cache)) => cache.store(&component).err(),
        Some(Err(refused)) => Some(refused),
        None => None,
    };
    Ok((component, ComponentSource::Compiled { cache_refused }))
}

/// [`PRECOMPILED`], if `engine` hashes like the engine that compiled it.
fn precompiled(engine: &wasmtime::Engine) -> Option<Component> {
    let built_for = PRECOMPILED_KEY.parse::<u64>().ok()?;
    if built_for != config::compatibility_key(engine)
        || wasmtime::Engine::detect_precompiled(PRECOMPILED) != Some(Precompiled::Component)
    {
        return None;
    }
    // SAFETY: the bytes are wasmtime's own compilation of COMPONENT, made by build.rs with
    // these engine settings and embedded in this binary, so they are as trusted as the
    // binary's code; wasmtime still checks their header against this engine.
    #[allow(unsafe_code)]
    unsafe { Component::deserialize(engine, PRECOMPILED) }.ok()
}

/// The on-disk cache of compiled components. Loading one runs its native code, so only a
/// directory that this user owns and nobody else can write is used, and only entries this
/// user owns that nobody else can write are loaded, read through the descriptor that was
/// checked (no swap between check and load).
struct Cache {
    /// `kiln-<component hash>-<engine hash>.cwasm`: a new binary or wasmtime gets a new
    /// entry.
    entry: PathBuf,
}

impl Cache {
    /// Creates `dir` (mode 0700) if needed and checks it; `Err` says why it is refused.
    fn open(dir: &Path, engine: &wasmtime::Engine) -> Result<Self, String> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot inspect {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        private(&meta).map_err(|why| {
            format!("{} {why}; run `chmod go-w` on it or set KILN_CACHE_DIR", dir.display())
        })?;
        let key = config::compatibility_key(engine);
        Ok(Self { entry: dir.join(format!("kiln-{}-{key:016x}.cwasm", &COMPONENT_SHA256[..16])) })
    }

    /// The cached component, if there is a safe, loadable entry.
    fn load(&self, engine: &wasmtime::Engine) -> Option<Component> {
        let mut file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(OFlags::NOFOLLOW.bits() as i32)
            .open(&self.entry)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || private(&meta).is_err() {
            return None;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes).ok()?;
        // SAFETY: the bytes come from a file this user owns and only this user can write,
        // in a directory with the same guarantee, which this function's caller serialized
        // for this engine (its settings are in the name). wasmtime still checks the header
        // and rejects other engines' artifacts; anything it rejects is recompiled.
        #[allow(unsafe_code)]
        unsafe { Component::deserialize(engine, &bytes) }.ok()
    }

    /// Writes `component` through a uniquely named temp file (mode 0600) and a rename, so
    /// concurrent processes and runtimes never see a partial entry or each other's temp
    /// file. The cache only saves time: the error is only reported.
    fn store(&self, component: &Component) -> Result<(), String> {
        let dir = self.entry.parent().unwrap_or(Path::new("."));
        let write = || -> Result<(), Box<dyn std::error::Error>> {
            let bytes = component.serialize()?;
            let mut tmp = tempfile::Builder::new().prefix(".kiln-").suffix(".tmp").tempfile_in(dir)?;
            std::io::Write::write_all(&mut tmp, &bytes)?;
            tmp.persist(&self.entry)?;
            Ok(())
        };
        write().map_err(|e| format!("cannot write {}: {e}", self.entry.display()))
    }
}

/// Whether a cache directory or entry is safe: owned by this user, writable by no one else.
fn private(meta: &fs::Metadata) -> Result<(), &'static str> {
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err("is owned by another user");
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err("is writable by other users");
    }
    Ok(())
}
