//! The ports through which the core reaches the outside world. Each mirrors an import of
//! the `kiln:engine` WIT world, so binding layers are plain conversions.

pub use kiln_wire::clock::{Clock, Entropy, UnixTime};
pub use kiln_wire::store::{Entry, Precondition, SkippedEntry, Store, StoreError, Version, validate_key};
