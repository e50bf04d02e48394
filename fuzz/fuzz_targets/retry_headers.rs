//! libFuzzer target `retry_headers` (see fuzz/README.md).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kiln_fuzz::retry_headers(data));
