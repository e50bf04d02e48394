//! A session as hosts and pages see it, built once here: the component hands it across the
//! WIT (`session-view`), the browser build to its page as JSON (issue #17).

pub use kiln_wire::builder::{PendingOauthView, SessionView, TransitionView};

use super::session::Session;

/// The view of `s`.
pub fn session_view(s: &Session) -> SessionView {
    SessionView {
        session_id: s.session_id.clone(),
        user_id: s.user_id.clone(),
        tenant_id: s.tenant_id.clone(),
        phase: s.phase,
        requirements: s.context.requirements.snapshot(),
        connected: s.context.connected.iter().map(|p| p.id().to_owned()).collect(),
        pending_oauth: s.pending_oauth.as_ref().map(|p| PendingOauthView {
            provider: p.provider.id().to_owned(),
            scopes: p.scopes.clone(),
            state: p.state.clone(),
            started_at_ms: p.started_at_ms,
            expires_at_ms: p.expires_at_ms,
        }),
        draft_agent_id: s.draft_agent_id.clone(),
        iteration: s.context.iteration,
        turn: s.context.turn,
        created_at_ms: s.created_at_ms,
        last_active_at_ms: s.last_active_at_ms,
        version: s.version,
        history: s
            .history
            .iter()
            .map(|t| TransitionView {
                from: t.from,
                to: t.to,
                cause: t.cause.name().to_owned(),
                turn: t.turn,
            })
            .collect(),
    }
}
