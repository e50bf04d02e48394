//! Components that implement Kiln's `engine` world badly on purpose, for the host's tests.

/// The hostile guest (`host/test-guests/hostile`): what each turn message makes it do is in
/// its crate docs (loop, allocate without end, recurse, trap, return garbage).
pub const HOSTILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hostile.wasm"));
