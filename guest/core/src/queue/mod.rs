//! The FIFO conversation queue (SPEC §3): `add`, `list`, `next`, `start` and the workflow
//! step. Every change to the index is a compare-and-swap retried on conflict, so concurrent
//! writers (processes, hosts) never lose or duplicate an id.

mod model;

use std::collections::{BTreeMap, BTreeSet};

use crate::ports::SkippedEntry;
pub use kiln_wire::queue::{
    CORRUPT_FIELD, INDEX_KEY, LEASE_MS, MAX_ATTEMPTS, NewConversation, QueueError, Started, conversation_key,
};
use model::to_pretty_json;
pub use model::{Conversation, Index};
use serde_json::{Map, Value};

use crate::ids::{check_conversation_id, new_uuid_v4};
use crate::ports::{Clock, Entropy, Precondition, Store, StoreError};
use crate::timefmt::rfc3339;

/// Largest accepted prompt, in bytes.
pub const MAX_PROMPT_BYTES: usize = 4 * 1024 * 1024;
/// Largest accepted workflow id, metadata key or metadata value, in bytes.
pub const MAX_FIELD_BYTES: usize = 4096;
/// Most metadata pairs on one conversation.
pub const MAX_METADATA_PAIRS: usize = 256;

/// The queue over a store, a clock and a source of randomness.
#[derive(Debug)]
pub struct Queue<S, C, E> {
    store: S,
    clock: C,
    entropy: E,
}

impl<S: Store, C: Clock, E: Entropy> Queue<S, C, E> {
    /// A queue over these ports.
    pub fn new(store: S, clock: C, entropy: E) -> Self {
        Self { store, clock, entropy }
    }

    /// Creates a conversation, stores it, appends it to the queue and returns it.
    pub fn add(&self, request: NewConversation) -> Result<Conversation, QueueError> {
        validate(&request)?;
        // Read the index first: a corrupt index stops the add before anything is written.
        self.load_index()?;
        let conversation = self.create(request)?;
        let id = conversation.conversation_id.clone();
        self.update_index(|index| {
            index.queue.push(id.clone());
            Ok(((), true))
        })?;
        Ok(conversation)
    }

    /// Every queued conversation, oldest first (leases that ended count as queued again).
    pub fn list(&self) -> Result<Vec<Conversation>, QueueError> {
        self.queued_index()?.queue.iter().map(|id| self.load_queued(id)).collect()
    }

    /// Like [`Queue::list`], but a conversation whose file cannot be read is skipped and
    /// named rather than failing the listing (issue #19): the queued ones in queue order,
    /// then those [`Queue::next_skipping`] set aside, in id order. A queued id without its
    /// file, or an unreadable index, still fails it.
    pub fn list_skipping(&self) -> Result<(Vec<Conversation>, Vec<SkippedEntry>), QueueError> {
        let index = self.queued_index()?;
        let mut listed = Vec::new();
        let mut skipped = Vec::new();
        for id in &index.queue {
            match self.load_queued(id) {
                Ok(conversation) => listed.push(conversation),
                Err(e) => skipped.push(unreadable_conversation(&e).ok_or(e)?),
            }
        }
        if let Some(Value::Object(aside)) = index.extra.get(CORRUPT_FIELD) {
            skipped.extend(aside.iter().map(|(id, detail)| SkippedEntry {
                key: conversation_key(id),
                id: id.clone(),
                detail: detail.as_str().unwrap_or("unreadable").to_owned(),
            }));
        }
        Ok((listed, skipped))
    }

    /// The index, with the leases that ended back in the queue (not stored).
    fn queued_index(&self) -> Result<Index, QueueError> {
        let (mut index, _) = self.load_index()?;
        return_ended_leases(&mut index, self.now_ms());
        Ok(index)
    }

    /// Hands out the oldest conversation, leased for [`LEASE_MS`]: `start` confirms it;
    /// otherwise it returns to the front of the queue when the lease ends, so a `next`
    /// killed before its answer arrived, or a worker that died before starting it, loses
    /// nothing. `None` when the queue is empty.
    pub fn next(&self) -> Result<Option<Conversation>, QueueError> {
        let now = self.now_ms();
        self.update_index(|index| {
            let returned = return_ended_leases(index, now);
            let Some(first) = index.queue.first() else {
                return Ok((None, returned));
            };
            // Load before removing, so an id whose file is gone is reported, not dropped.
            let conversation = self.load_queued(first)?;
            let id = index.queue.remove(0);
            index.leased.insert(id, now.saturating_add(LEASE_MS));
            Ok((Some(conversation), true))
        })
    }

    /// Like [`Queue::next`], but a conversation whose file cannot be read is set aside on the
    /// way (moved from the queue, or its lease, to the index's [`CORRUPT_FIELD`], its file
    /// untouched) and returned in the second part, so it never blocks the ones behind it.
    pub fn next_skipping(&self) -> Result<(Option<Conversation>, Vec<SkippedEntry>), QueueError> {
        let mut aside: Vec<SkippedEntry> = Vec::new();
        loop {
            match self.next() {
                Ok(next) => return Ok((next, aside)),
                // Once per id: an id reported again was not taken off the queue.
                Err(e) => match unreadable_conversation(&e) {
                    Some(entry) if !aside.iter().any(|a| a.id == entry.id) => {
                        self.set_aside(&entry)?;
                        aside.push(entry);
                    }
                    _ => return Err(e),
                },
            }
        }
    }

    /// Moves an unreadable conversation from the queue (or its lease) to the index's
    /// [`CORRUPT_FIELD`]; nothing when it is no longer queued (another `next_skipping` set
    /// it aside, or it was started).
    fn set_aside(&self, entry: &SkippedEntry) -> Result<(), QueueError> {
        self.update_index(|index| {
            let queued = index.queue.len();
            index.queue.retain(|id| *id != entry.id);
            let leased = index.leased.remove(&entry.id).is_some();
            if index.queue.len() == queued && !leased {
                return Ok(((), false));
            }
            let field = index.extra.entry(CORRUPT_FIELD).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(field) = field else {
                return Err(QueueError::Corrupt {
                    key: INDEX_KEY.to_owned(),
                    detail: format!("its {CORRUPT_FIELD:?} field is not an object of ids"),
                });
            };
            field.insert(entry.id.clone(), Value::String(entry.detail.clone()));
            Ok(((), true))
        })
    }

    /// Like [`Queue::start`], and forgets the id wherever the index still holds it: one
    /// [`Queue::next_skipping`] set aside counts as queued (`was_queued`) once its file
    /// reads again; one whose file is gone is dropped, so it blocks nothing (the answer is
    /// still not-found).
    pub fn start_forgetting(&self, id: &str) -> Result<Started, QueueError> {
        match self.start(id) {
            Ok(started) => {
                let was_set_aside = self.forget(id)?;
                Ok(Started { was_queued: started.was_queued || was_set_aside, ..started })
            }
            Err(QueueError::NotFound(id)) => {
                self.forget(&id)?;
                Err(QueueError::NotFound(id))
            }
            Err(e) => Err(e),
        }
    }

    /// Drops `id` from the index (queue, lease and [`CORRUPT_FIELD`]); whether it was there.
    fn forget(&self, id: &str) -> Result<bool, QueueError> {
        self.update_index(|index| {
            let queued = index.queue.len();
            index.queue.retain(|q| q != id);
            let leased = index.leased.remove(id).is_some();
            let set_aside = match index.extra.get_mut(CORRUPT_FIELD) {
                Some(Value::Object(field)) => field.remove(id).is_some(),
                _ => false,
            };
            let changed = index.queue.len() != queued || leased || set_aside;
            Ok((changed, changed))
        })
    }

    /// Starts a conversation: takes it off the queue (or ends its lease) if it is there.
    /// Starting it again, or starting one that `next` handed out, succeeds with
    /// `was_queued == false`.
    pub fn start(&self, id: &str) -> Result<Started, QueueError> {
        check_conversation_id(id).map_err(QueueError::InvalidInput)?;
        // `conversations/index.json` is the index, never a conversation.
        if conversation_key(id) == INDEX_KEY {
            return Err(QueueError::NotFound(id.to_owned()));
        }
        let conversation = self.load_conversation(id)?.ok_or_else(|| QueueError::NotFound(id.to_owned()))?;
        let was_queued = self.update_index(|index| {
            let before = index.queue.len();
            index.queue.retain(|queued| queued != id);
            let removed = index.queue.len() != before;
            let confirmed = index.leased.remove(id).is_some();
            Ok((removed, removed || confirmed))
        })?;
        Ok(Started { conversation, was_queued })
    }

    fn now_ms(&self) -> u64 {
        let t = self.clock.now();
        t.seconds.saturating_mul(1000).saturating_add(u64::from(t.nanoseconds / 1_000_000))
    }

    /// The workflow step: queues a conversation for `workflow_id` and returns its id, on
    /// which the workflow pauses until someone starts it.
    pub fn conversation_step(
        &self,
        prompt: String,
        workflow_id: String,
        metadata: BTreeMap<String, String>,
    ) -> Result<String, QueueError> {
        if workflow_id.trim().is_empty() {
            return Err(QueueError::InvalidInput(
                "the workflow step needs a workflow id, so the workflow can be resumed when the conversation starts".into(),
            ));
        }
        let request = NewConversation { prompt, workflow_id: Some(workflow_id), metadata };
        Ok(self.add(request)?.conversation_id)
    }

    /// Writes a new conversation file under a fresh id.
    fn create(&self, request: NewConversation) -> Result<Conversation, QueueError> {
        let created_at = rfc3339(self.clock.now());
        for _ in 0..MAX_ATTEMPTS {
            let conversation = Conversation {
                conversation_id: new_uuid_v4(&self.entropy),
                prompt: request.prompt.clone(),
                created_at: created_at.clone(),
                workflow_id: request.workflow_id.clone(),
                metadata: request.metadata.clone(),
            };
            let key = conversation_key(&conversation.conversation_id);
            match self.store.put(&key, &to_pretty_json(&conversation), Precondition::Absent) {
                Ok(_) => return Ok(conversation),
                // The id is taken (only with broken randomness): draw another.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(QueueError::Contention(MAX_ATTEMPTS))
    }

    /// Read-modify-write of the index. `change` returns its result and whether it changed
    /// the index; on a compare-and-swap conflict the index is re-read and `change` re-run.
    fn update_index<T>(
        &self,
        mut change: impl FnMut(&mut Index) -> Result<(T, bool), QueueError>,
    ) -> Result<T, QueueError> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut index, read) = self.load_index()?;
            let (out, changed) = change(&mut index)?;
            if !changed {
                return Ok(out);
            }
            match self.store.put(INDEX_KEY, &to_pretty_json(&index), read) {
                Ok(_) => return Ok(out),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(QueueError::Contention(MAX_ATTEMPTS))
    }

    /// The index and the precondition "still as read" (an absent index is an empty queue).
    fn load_index(&self) -> Result<(Index, Precondition), QueueError> {
        let entry = self.store.get(INDEX_KEY)?;
        let read = Precondition::unchanged_since(entry.as_ref());
        let Some(entry) = entry else {
            return Ok((Index::default(), read));
        };
        let corrupt = |detail: String| QueueError::Corrupt { key: INDEX_KEY.to_owned(), detail };
        let index: Index = serde_json::from_slice(&entry.value)
            .map_err(|e| corrupt(format!("not a {{\"queue\": [ids...]}} JSON object ({e})")))?;
        let mut seen = BTreeSet::new();
        for id in index.queue.iter().chain(index.leased.keys()) {
            check_conversation_id(id).map_err(|why| corrupt(format!("queue entry: {why}")))?;
            if !seen.insert(id.as_str()) {
                return Err(corrupt(format!("id {id:?} is queued twice")));
            }
        }
        Ok((index, read))
    }

    /// A conversation the index lists: its file must exist.
    fn load_queued(&self, id: &str) -> Result<Conversation, QueueError> {
        self.load_conversation(id)?.ok_or_else(|| QueueError::Corrupt {
            key: INDEX_KEY.to_owned(),
            detail: format!(
                "it queues {id:?} but {} does not exist; remove that id from the queue",
                conversation_key(id)
            ),
        })
    }

    fn load_conversation(&self, id: &str) -> Result<Option<Conversation>, QueueError> {
        let key = conversation_key(id);
        let Some(entry) = self.store.get(&key)? else {
            return Ok(None);
        };
        let conversation: Conversation = serde_json::from_slice(&entry.value).map_err(|e| {
            QueueError::Corrupt { key: key.clone(), detail: format!("not a conversation JSON object ({e})") }
        })?;
        if conversation.conversation_id != id {
            return Err(QueueError::Corrupt {
                key,
                detail: format!("its conversation_id is {:?}, not {id:?}", conversation.conversation_id),
            });
        }
        Ok(Some(conversation))
    }
}

/// The conversation an error reports unreadable, if it names a conversation file (not the
/// index: an unreadable index, or a queued id without its file, stops everything).
fn unreadable_conversation(e: &QueueError) -> Option<SkippedEntry> {
    let QueueError::Corrupt { key, detail } = e else { return None };
    let id = key.strip_prefix("conversations/")?.strip_suffix(".json")?;
    (key != INDEX_KEY).then(|| SkippedEntry { key: key.clone(), id: id.to_owned(), detail: detail.clone() })
}

/// Puts the ids whose lease ended back at the front of the queue, the earliest lease first;
/// whether any did.
fn return_ended_leases(index: &mut Index, now_ms: u64) -> bool {
    let mut ended: Vec<(u64, String)> = index
        .leased
        .iter()
        .filter(|(_, until)| **until <= now_ms)
        .map(|(id, until)| (*until, id.clone()))
        .collect();
    if ended.is_empty() {
        return false;
    }
    ended.sort();
    for (_, id) in &ended {
        index.leased.remove(id);
    }
    index.queue.splice(0..0, ended.into_iter().map(|(_, id)| id));
    true
}

fn validate(request: &NewConversation) -> Result<(), QueueError> {
    let invalid = |msg: String| Err(QueueError::InvalidInput(msg));
    if request.prompt.trim().is_empty() {
        return invalid("the prompt is empty: give the conversation's opening text".into());
    }
    if request.prompt.len() > MAX_PROMPT_BYTES {
        return invalid(format!(
            "the prompt is {} bytes; the limit is {MAX_PROMPT_BYTES} bytes (4 MiB): shorten it or store the text elsewhere and link it",
            request.prompt.len()
        ));
    }
    if let Some(w) = &request.workflow_id {
        if w.trim().is_empty() {
            return invalid("the workflow id is blank: leave it out or give the workflow's id".into());
        }
        if w.len() > MAX_FIELD_BYTES {
            return invalid(format!("the workflow id is longer than {MAX_FIELD_BYTES} bytes"));
        }
    }
    if request.metadata.len() > MAX_METADATA_PAIRS {
        return invalid(format!(
            "{} metadata pairs; at most {MAX_METADATA_PAIRS} are allowed",
            request.metadata.len()
        ));
    }
    for (k, v) in &request.metadata {
        if k.trim().is_empty() {
            return invalid("a metadata key is empty: write pairs as key=value".into());
        }
        if k.len() > MAX_FIELD_BYTES || v.len() > MAX_FIELD_BYTES {
            return invalid(format!("metadata {k:?} is longer than {MAX_FIELD_BYTES} bytes"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
