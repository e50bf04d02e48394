//! libFuzzer target `sse` (see fuzz/README.md).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kiln_fuzz::sse(data));
