//! What a turn answers: a stream of [`ChatChunk`]s (SPEC §2.4). The shapes are the wire
//! vocabulary's (`kiln-wire`); here the draft is the typed [`AgentSpec`].

use super::agent::AgentSpec;

pub use kiln_wire::builder::{Action, ActionKind, ConnectRequest};

/// The draft agent, when it changed.
pub type DraftView = kiln_wire::builder::DraftView<AgentSpec>;

/// One piece of a response.
pub type ChatChunk = kiln_wire::builder::ChatChunk<AgentSpec>;
