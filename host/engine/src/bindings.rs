//! The generated wasmtime bindings for the `kiln:engine` world. Nothing outside the crate
//! sees these types: [`crate::queue`] converts them to kiln-core's.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "engine",
    imports: { default: async },
    exports: { default: async },
});
