//! libFuzzer target `models_yaml` (see fuzz/README.md).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kiln_fuzz::models_yaml(data));
