//! libFuzzer target `session_record` (see fuzz/README.md).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kiln_fuzz::session_record(data));
