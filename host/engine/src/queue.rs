//! The conversation queue, run inside the component. The guest owns the logic; this module
//! only converts between kiln-core's types and the generated WIT types.

use std::sync::Arc;

use kiln_wire::queue::{
    Conversation, INDEX_KEY, Index, MAX_ATTEMPTS, NewConversation, QueueError, Started, conversation_key,
};
use kiln_wire::store::{Precondition, StoreError, Version};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::imports::Imports;
use crate::listing::{CorruptEntry, Reported, Skipping};
use crate::runtime::{EngineError, Runtime};

/// The index field holding the conversations `next` set aside as corrupt: id -> what is
/// wrong. Kept out of `queue` so tools that read only `queue` never meet them; the engine
/// keeps fields it does not know whenever it rewrites the index.
pub const CORRUPT_FIELD: &str = "corrupt";

/// Why a queue call failed.
#[derive(Debug, Error)]
pub enum QueueFailure {
    /// The queue refused or could not do it.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The engine could not run it.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl QueueFailure {
    /// A stable name for scripts and APIs: the queue's kinds, or `engine`.
    pub fn kind(&self) -> &'static str {
        match self {
            QueueFailure::Queue(e) => e.kind(),
            QueueFailure::Engine(_) => "engine",
        }
    }
}

/// The queue of one store (one tenant), driven through the component.
#[derive(Clone)]
pub struct QueueClient {
    runtime: Arc<Runtime>,
    imports: Imports,
}

impl QueueClient {
    /// A client for the queue in `imports.store`.
    pub fn new(runtime: Arc<Runtime>, imports: Imports) -> Self {
        Self { runtime, imports }
    }

    /// Where a store key lives (a file path for the file store), for error messages.
    pub fn locate(&self, key: &str) -> String {
        self.imports.store.locate(key)
    }

    /// Creates a conversation and appends it to the queue.
    pub async fn add(&self, request: NewConversation) -> Result<Conversation, QueueFailure> {
        let request = wit::NewConversation::from(request);
        let result = self
            .runtime
            .call("add", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_add(store, &request).await
            })
            .await?;
        Ok(result.map(Into::into).map_err(QueueError::from)?)
    }

    /// Every queued conversation, oldest first, and the conversations skipped because
    /// their files cannot be read: those still queued and those `next` set aside
    /// (issue #19: one corrupt file used to fail the listing).
    pub async fn list(&self) -> Result<(Vec<Conversation>, Vec<CorruptEntry>), QueueFailure> {
        let mut skipping = Skipping::new(Arc::clone(&self.imports.store));
        let queued = loop {
            let imports = Imports { store: skipping.view(), ..self.imports.clone() };
            let result = self
                .runtime
                .call("list", imports, async |engine, store| {
                    engine.kiln_engine_queue().call_list(store).await
                })
                .await?;
            match result.map_err(QueueError::from) {
                Ok(queued) => break queued,
                Err(e) if skipping.skip(corrupt_conversation(&e)) => {}
                Err(e) => return Err(e.into()),
            }
        };
        let mut corrupt: Vec<CorruptEntry> = skipping.skipped().iter().map(Self::corrupt_entry).collect();
        let (index, _) = self.read_index().await?;
        corrupt.extend(
            set_aside_in(&index).into_iter().map(|(id, detail)| {
                Self::corrupt_entry(&Reported { key: conversation_key(&id), id, detail })
            }),
        );
        Ok((queued.into_iter().map(Into::into).collect(), corrupt))
    }

    /// Takes the oldest conversation off the queue; `None` when it is empty. A conversation
    /// whose file cannot be read is set aside on the way (moved from the queue to the
    /// index's `corrupt` field, its file untouched) and returned in the second part, so
    /// it never blocks the ones behind it.
    pub async fn next(&self) -> Result<(Option<Conversation>, Vec<CorruptEntry>), QueueFailure> {
        let mut aside: Vec<CorruptEntry> = Vec::new();
        loop {
            let result = self
                .runtime
                .call("next", self.imports.clone(), async |engine, store| {
                    engine.kiln_engine_queue().call_next(store).await
                })
                .await?;
            match result.map_err(QueueError::from) {
                Ok(next) => return Ok((next.map(Into::into), aside)),
                // Once per id: an id reported again was not taken off the queue.
                Err(e) => match corrupt_conversation(&e) {
                    Some(r) if !aside.iter().any(|c| c.id == r.id) => {
                        self.set_aside(&r).await?;
                        aside.push(Self::corrupt_entry(&r));
                    }
                    _ => return Err(e.into()),
                },
            }
        }
    }

    /// Starts a conversation by id, taking it off the queue if it is there. A conversation
    /// `next` set aside as corrupt is taken off the index's `corrupt` field once its file
    /// reads again (`was_queued`), or once its file is gone (not found).
    pub async fn start(&self, conversation_id: &str) -> Result<Started, QueueFailure> {
        let result = self
            .runtime
            .call("start", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_start(store, conversation_id).await
            })
            .await?;
        match result.map_err(QueueError::from) {
            Ok(started) => {
                let was_set_aside = self.forget(conversation_id).await?;
                Ok(Started {
                    conversation: started.conversation.into(),
                    was_queued: started.was_queued || was_set_aside,
                })
            }
            Err(QueueError::NotFound(id)) => {
                // No file: an id the index still names (set aside, or queued before its
                // file was moved away) can never be delivered; drop it so it blocks nothing.
                self.forget(&id).await?;
                Err(QueueError::NotFound(id).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn corrupt_entry(r: &Reported) -> CorruptEntry {
        CorruptEntry {
            id: r.id.clone(),
            key: r.key.clone(),
            error: format!(
                "{} is corrupt: {}. It is left as it is and skipped: fix it (or move it aside), then run \
                 `kiln conversations start {}` (POST /v1/conversations/{}/start), which starts it once it \
                 reads, or forgets it once the file is gone",
                r.key, r.detail, r.id, r.id
            ),
        }
    }

    /// The queue index and its version (an absent index is an empty queue).
    async fn read_index(&self) -> Result<(Index, Option<Version>), QueueFailure> {
        let corrupt = |detail: String| QueueError::Corrupt { key: INDEX_KEY.to_owned(), detail };
        let Some(entry) = self.imports.store.get(INDEX_KEY).await.map_err(QueueError::Store)? else {
            return Ok((Index::default(), None));
        };
        let index = serde_json::from_slice(&entry.value)
            .map_err(|e| corrupt(format!("not a {{\"queue\": [ids...]}} JSON object ({e})")))?;
        Ok((index, Some(entry.version)))
    }

    /// Read-modify-write of the index by compare-and-swap, as the engine does it: `change`
    /// returns whether it changed anything (nothing is written otherwise).
    async fn update_index(
        &self,
        mut change: impl FnMut(&mut Index) -> Result<bool, QueueError>,
    ) -> Result<bool, QueueFailure> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut index, version) = self.read_index().await?;
            let Some(version) = version else { return Ok(false) };
            if !change(&mut index)? {
                return Ok(false);
            }
            // The engine's format: pretty JSON and a trailing newline.
            let mut bytes = serde_json::to_vec_pretty(&index).unwrap_or_default();
            bytes.push(b'\n');
            match self.imports.store.put(INDEX_KEY, bytes, Precondition::Matches(version)).await {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(QueueError::Store(e).into()),
            }
        }
        Err(QueueError::Contention(MAX_ATTEMPTS).into())
    }

    /// Moves a corrupt conversation from the queue (or its lease) to the index's `corrupt`
    /// field; nothing when it is no longer queued (another `next` set it aside, or it was
    /// started).
    async fn set_aside(&self, r: &Reported) -> Result<(), QueueFailure> {
        self.update_index(|index| {
            let queued = index.queue.len();
            index.queue.retain(|id| *id != r.id);
            let leased = index.leased.remove(&r.id).is_some();
            if index.queue.len() == queued && !leased {
                return Ok(false);
            }
            let field = index.extra.entry(CORRUPT_FIELD).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(field) = field else {
                return Err(QueueError::Corrupt {
                    key: INDEX_KEY.to_owned(),
                    detail: format!("its {CORRUPT_FIELD:?} field is not an object of ids"),
                });
            };
            field.insert(r.id.clone(), Value::String(r.detail.clone()));
            Ok(true)
        })
        .await
        .map(drop)
    }

    /// Drops `id` from the index (queue, lease and `corrupt` field); whether it was there.
    async fn forget(&self, id: &str) -> Result<bool, QueueFailure> {
        self.update_index(|index| {
            let queued = index.queue.len();
            index.queue.retain(|q| q != id);
            let leased = index.leased.remove(id).is_some();
            let set_aside = match index.extra.get_mut(CORRUPT_FIELD) {
                Some(Value::Object(field)) => field.remove(id).is_some(),
                _ => false,
            };
            Ok(index.queue.len() != queued || leased || set_aside)
        })
        .await
    }

    /// The workflow step: queues a conversation for `workflow_id`; the workflow pauses on
    /// the returned conversation id.
    pub async fn conversation_step(&self, request: NewConversation) -> Result<String, QueueFailure> {
        let workflow_id = request.workflow_id.unwrap_or_default();
        let metadata: Vec<(String, String)> = request.metadata.into_iter().collect();
        let result = self
            .runtime
            .call("conversation-step", self.imports.clone(), async |engine, store| {
                engine
                    .kiln_engine_queue()
                    .call_conversation_step(store, &request.prompt, &workflow_id, &metadata)
                    .await
            })
            .await?;
        match result.map_err(QueueError::from)? {
            wit::StepOutcome::Paused(id) => Ok(id),
        }
    }
}

/// The conversation a queue error reports corrupt, if it names a conversation file (not the
/// index: a corrupt index stops everything, and is reported as it is).
fn corrupt_conversation(e: &QueueError) -> Option<Reported> {
    let QueueError::Corrupt { key, detail } = e else { return None };
    let id = key.strip_prefix("conversations/")?.strip_suffix(".json")?;
    (key != INDEX_KEY).then(|| Reported { key: key.clone(), id: id.to_owned(), detail: detail.clone() })
}

/// The conversations `next` set aside as corrupt, with what was wrong, in id order.
fn set_aside_in(index: &Index) -> Vec<(String, String)> {
    match index.extra.get(CORRUPT_FIELD) {
        Some(Value::Object(field)) => field
            .iter()
            .map(|(id, detail)| (id.clone(), detail.as_str().unwrap_or("unreadable").to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}
