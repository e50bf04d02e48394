//! One wasmtime `Engine` and one `InstancePre` per process. Each guest call runs on a warm
//! instance (its own `Store`) taken from a free list, with fresh fuel and a fresh epoch
//! deadline; an instance that trapped or grew large is dropped, never reused. The compiled
//! component is cached on disk so a CLI call deserializes it (~0.2 ms) instead of
//! JIT-compiling it (seconds).

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use thiserror::Error;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use crate::bindings;
use crate::imports::{HostState, MemoryLimiter};
use crate::services::Services;
use crate::store::MemoryStore;

/// The component this binary embeds (built by `build.rs`).
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kiln.wasm"));
/// SHA-256 of [`COMPONENT`], computed at build time.
pub const COMPONENT_SHA256: &str = env!("KILN_COMPONENT_SHA256");

/// Memory kept mapped per pool slot between calls, reset in place.
const KEEP_RESIDENT: usize = 4 << 20;

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
        Self { memory_bytes: 128 << 20, fuel: 20_000_000_000, deadline: Duration::from_secs(60) }
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
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self { cache_dir: None, limits: Limits::default(), max_concurrent_calls: 64, reuse_instances: true }
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

/// One instance of the guest in its own store, ready for its next call.
struct Warm {
    store: Store<HostState>,
    instance: bindings::Engine,
    calls: u64,
}

/// The loaded engine: compile once, call many times.
pub struct Runtime {
    engine: Engine,
    pre: bindings::EnginePre<HostState>,
    limits: Limits,
    /// Whether this start compiled the component (a cache miss) rather than loading it.
    compiled_now: bool,
    /// Whether guest memory accesses are checked by guard pages rather than explicit checks.
    guard_pages: bool,
    /// One permit per pool slot: a call beyond the pool waits for a slot instead of failing.
    slots: tokio::sync::Semaphore,
    /// Instances between calls, most recently used last (its memory is the warmest).
    warm: Option<Mutex<Vec<Warm>>>,
    /// What a warm instance holds between calls instead of its last caller's services, so
    /// that no caller's store or event stream is kept alive by an idle instance.
    parked: Services,
    instantiations: AtomicU64,
}

impl Runtime {
    /// Loads the embedded component, from the cache when possible.
    pub fn new(options: &RuntimeOptions) -> Result<Self, EngineError> {
        // Guard pages when the process may reserve the address space for them, else
        // explicit bounds checks (e.g. under `ulimit -v` or valgrind): same behaviour, slower.
        let (engine, guard_pages) = match Engine::new(&engine_config(options, true)) {
            Ok(engine) => (engine, true),
            Err(_) => (
                Engine::new(&engine_config(options, false))
                    .map_err(|e| EngineError::Load(format!("{e:#}")))?,
                false,
            ),
        };
        let (component, compiled_now) = load_component(&engine, options.cache_dir.as_deref())?;

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
            compiled_now,
            guard_pages,
            slots,
            warm: options.reuse_instances.then(|| Mutex::new(Vec::new())),
            parked: Services::system(Arc::new(MemoryStore::new())),
            instantiations: AtomicU64::new(0),
        })
    }

    /// Whether this runtime had to compile the component (no usable cache entry).
    pub fn compiled_now(&self) -> bool {
        self.compiled_now
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

    /// Runs `call` on a warm instance (or a new one), with this call's services, full fuel
    /// and a fresh deadline.
    pub(crate) async fn call<T>(
        &self,
        operation: &'static str,
        services: Services,
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
        store.data_mut().services = services;
        store.data_mut().chunks.clear();
        store.set_fuel(self.limits.fuel).map_err(trap)?;
        store.set_epoch_deadline(self.deadline_ticks());
        let result = call(&warm.instance, &mut warm.store).await;
        warm.store.data_mut().services = self.parked.clone();
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
            services: self.parked.clone(),
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

/// The engine's configuration. With `guard_pages`, every linear memory sits in a 4 GiB
/// reservation plus a guard region, so compiled code needs no bounds check per access
/// (about a quarter of a builder turn's instructions); a warm instance's memory is not
/// re-protected between calls, so the guard pages cost nothing per call. Without, the
/// reservation is the memory limit and every access is checked.
fn engine_config(options: &RuntimeOptions, guard_pages: bool) -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .concurrency_support(false)
        .signals_based_traps(guard_pages)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool(options)));
    if !guard_pages {
        config.memory_reservation(options.limits.memory_bytes as u64).memory_guard_size(0);
    }
    config
}

/// A pool sized for `max_concurrent_calls` instances of the component. Mapping a fresh
/// memory and an async fiber stack for every call costs tens of microseconds; the pool
/// reuses them.
fn pool(options: &RuntimeOptions) -> PoolingAllocationConfig {
    let n = options.max_concurrent_calls.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(4))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_memory_size(options.limits.memory_bytes)
        // Reset used pages with memset, found by the PAGEMAP_SCAN ioctl (Linux >= 6.7),
        // instead of madvise: no page faults on the next call, no TLB shootdowns.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    pool
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
fn spawn_epoch_ticker(engine: &Engine) {
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

/// The cached compiled component, or a fresh compile written to the cache.
fn load_component(engine: &Engine, cache_dir: Option<&Path>) -> Result<(Component, bool), EngineError> {
    let cache_file = cache_dir.map(|dir| dir.join(cache_file_name(engine)));
    if let Some(path) = &cache_file {
        // SAFETY: the file is one this function serialized from the embedded component for
        // this exact engine configuration (both are in its name), in the user's own cache
        // directory. wasmtime still checks its header and rejects other engines' artifacts;
        // anything it rejects is recompiled below.
        #[allow(unsafe_code)]
        if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
            return Ok((component, false));
        }
    }
    let component = Component::new(engine, COMPONENT).map_err(|e| EngineError::Load(format!("{e:#}")))?;
    if let Some(path) = &cache_file {
        // The cache only saves time: failing to write it is not an error.
        let _ = component.serialize().map(|bytes| write_cache(path, &bytes));
    }
    Ok((component, true))
}

/// `kiln-<component hash>-<engine hash>.cwasm`: a new binary or wasmtime gets a new entry.
fn cache_file_name(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("kiln-{}-{:016x}.cwasm", &COMPONENT_SHA256[..16], hasher.finish())
}

/// Writes via a temp file and rename so concurrent processes never map a partial file.
fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}
