//! The wasmtime configuration, written once: the runtime builds its engine with it, and
//! `build.rs` (which includes this file as a module) compiles the component ahead of time
//! with the very same settings, so the embedded artifact loads without a compile whenever
//! the running engine's settings hash the same (docs/architecture.md, "No compile at first
//! run").

use std::hash::{DefaultHasher, Hash, Hasher};

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Default largest linear memory per guest call, in bytes.
pub const DEFAULT_MEMORY_BYTES: usize = 128 << 20;

/// Default number of guest calls that may run at once (the pool's size).
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 64;

/// Memory kept mapped per pool slot between calls, reset in place.
const KEEP_RESIDENT: usize = 4 << 20;

/// The engine's configuration. With `guard_pages`, every linear memory sits in a 4 GiB
/// reservation plus a guard region, so compiled code needs no bounds check per access
/// (about a quarter of a builder turn's instructions); a warm instance's memory is not
/// re-protected between calls, so the guard pages cost nothing per call. Without, the
/// reservation is the memory limit and every access is checked.
pub fn engine_config(guard_pages: bool, memory_bytes: usize, max_concurrent_calls: u32) -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .concurrency_support(false)
        .signals_based_traps(guard_pages)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool(memory_bytes, max_concurrent_calls)));
    if !guard_pages {
        config.memory_reservation(memory_bytes as u64).memory_guard_size(0);
    }
    config
}

/// What compiled code depends on in `engine`'s settings (target, CPU features, tunables,
/// wasm features, wasmtime version) as one number: two engines with the same key load each
/// other's artifacts. `DefaultHasher::new()` has fixed keys, so the build script and the
/// binary it builds (same compiler, same std) agree on it.
pub fn compatibility_key(engine: &wasmtime::Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

/// A pool sized for `max_concurrent_calls` instances of the component. Mapping a fresh
/// memory and an async fiber stack for every call costs tens of microseconds; the pool
/// reuses them.
fn pool(memory_bytes: usize, max_concurrent_calls: u32) -> PoolingAllocationConfig {
    let n = max_concurrent_calls.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(4))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_memory_size(memory_bytes)
        // Reset used pages with memset, found by the PAGEMAP_SCAN ioctl (Linux >= 6.7),
        // instead of madvise: no page faults on the next call, no TLB shootdowns.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    pool
}
