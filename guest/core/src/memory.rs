//! An in-memory [`Store`](crate::Store): the reference implementation of the store contract
//! (kept in `kiln-wire` beside the contract, so a host can use it without the core).

pub use kiln_wire::store::MemoryStore;
