#![no_main]
// The entry point and its invariants live in kindling::fuzzing, shared with the regression test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| kindling::fuzzing::mime(data));
