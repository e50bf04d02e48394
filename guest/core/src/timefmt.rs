//! RFC 3339 timestamps from the host's clock (defined with the clock, in `kiln-wire`).

pub use kiln_wire::clock::rfc3339;
