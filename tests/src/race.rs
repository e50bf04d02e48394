//! Many `kiln` processes (or servers: any [`Endpoint`]) adding to and taking from one queue
//! at once, on any store, and the checks that nothing was lost or handed out twice and that
//! each adder's ids stayed FIFO. Used by `contention.rs` (file store), `redis_cli.rs` and
//! `redis_cluster.rs` (Redis, with `kiln serve` instances among the endpoints).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Kiln, assert_uuid_v4};

/// What a taker thread saw: the ids `next` returned, in order, and how often the queue was empty.
#[derive(Debug)]
pub struct Taken {
    /// The ids `next` handed out, in order.
    pub ids: Vec<String>,
    /// How many `next` calls found the queue empty.
    pub empty: usize,
}

/// What a race did.
#[derive(Debug)]
pub struct Race {
    /// Per adder: (id, prompt) in the order its adds returned.
    pub added: Vec<Vec<(String, String)>>,
    /// Per taker.
    pub taken: Vec<Taken>,
    /// How long it took.
    pub elapsed: Duration,
}

/// One way to reach a queue: the `kiln` CLI on some store, an instance of `kiln serve`, ...
/// A race mixes any of them.
pub trait Endpoint: Send + Sync {
    /// Queues a conversation with `prompt`: its id, or why it failed (for the panic message).
    fn add(&self, prompt: &str) -> Result<String, String>;
    /// Takes the oldest conversation: `Some((id, prompt))`, `None` when the queue is empty,
    /// or why it failed.
    fn next(&self) -> Result<Option<(String, String)>, String>;
}

/// The CLI: `kiln conversations add <prompt>` and `kiln --json conversations next`, one
/// process per call.
impl Endpoint for Kiln {
    fn add(&self, prompt: &str) -> Result<String, String> {
        let out = self.run(["conversations", "add", prompt]);
        if out.code() != Some(0) {
            return Err(out.to_string());
        }
        let id = out.stdout.trim().to_owned();
        assert_uuid_v4(&id);
        Ok(id)
    }

    fn next(&self) -> Result<Option<(String, String)>, String> {
        let out = self.run(["--json", "conversations", "next"]);
        match out.code() {
            Some(0) => {
                let c = out.json();
                let id = c["conversation_id"].as_str().expect("conversation_id").to_owned();
                let prompt = c["prompt"].as_str().expect("prompt").to_owned();
                Ok(Some((id, prompt)))
            }
            Some(1) if out.json_error().0 == "empty" => Ok(None),
            _ => Err(out.to_string()),
        }
    }
}

/// Runs `adders` threads doing `adds_each` `kiln conversations add` each, while `takers`
/// threads run `kiln --json conversations next` until the adders are done and the queue is
/// empty. Panics on any other failure.
pub fn run(k: &Arc<Kiln>, adders: usize, adds_each: usize, takers: usize) -> Race {
    let endpoint: Arc<dyn Endpoint> = Arc::clone(k) as Arc<dyn Endpoint>;
    run_on(&vec![Arc::clone(&endpoint); adders], adds_each, &vec![endpoint; takers])
}

/// Runs one thread per entry of `adders`, each doing `adds_each` adds through its endpoint,
/// while one thread per entry of `takers` takes through its endpoint until the adders are
/// done and the queue is empty (all on the same queue). Panics on any other failure.
pub fn run_on(adders: &[Arc<dyn Endpoint>], adds_each: usize, takers: &[Arc<dyn Endpoint>]) -> Race {
    let started = Instant::now();
    let adders_left = Arc::new(AtomicUsize::new(adders.len()));
    let failed = Arc::new(AtomicBool::new(false));

    let adder_threads: Vec<_> = adders
        .iter()
        .enumerate()
        .map(|(a, endpoint)| {
            let (endpoint, adders_left, failed) =
                (Arc::clone(endpoint), Arc::clone(&adders_left), Arc::clone(&failed));
            thread::spawn(move || {
                let mut ids = Vec::with_capacity(adds_each);
                for i in 0..adds_each {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let prompt = format!("adder {a} prompt {i}");
                    match endpoint.add(&prompt) {
                        Ok(id) => ids.push((id, prompt)),
                        Err(why) => {
                            failed.store(true, Ordering::Relaxed);
                            adders_left.fetch_sub(1, Ordering::SeqCst);
                            panic!("adder {a}, add {i} failed under contention\n{why}");
                        }
                    }
                }
                adders_left.fetch_sub(1, Ordering::SeqCst);
                ids
            })
        })
        .collect();

    let taker_threads: Vec<_> = takers
        .iter()
        .enumerate()
        .map(|(t, endpoint)| {
            let (endpoint, adders_left, failed) =
                (Arc::clone(endpoint), Arc::clone(&adders_left), Arc::clone(&failed));
            thread::spawn(move || {
                let mut taken = Taken { ids: Vec::new(), empty: 0 };
                // Keep going until the adders are done, then one last empty answer ends it.
                loop {
                    let adding = adders_left.load(Ordering::SeqCst) > 0;
                    match endpoint.next() {
                        Ok(Some((id, prompt))) => {
                            assert!(prompt.starts_with("adder "), "taker {t}: unexpected prompt {prompt:?}");
                            taken.ids.push(id);
                        }
                        Ok(None) => {
                            taken.empty += 1;
                            if !adding {
                                break;
                            }
                            // Let the adders get ahead instead of spinning on an empty queue.
                            thread::sleep(Duration::from_millis(5));
                        }
                        Err(why) => {
                            failed.store(true, Ordering::Relaxed);
                            panic!("taker {t}: next failed under contention\n{why}");
                        }
                    }
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                }
                taken
            })
        })
        .collect();

    let added = adder_threads.into_iter().map(|h| h.join().expect("an adder thread failed")).collect();
    let taken = taker_threads.into_iter().map(|h| h.join().expect("a taker thread failed")).collect();
    Race { added, taken, elapsed: started.elapsed() }
}

impl Race {
    /// Checks the race against what is still `queue`d: every add printed a distinct id, each
    /// id was handed out at most once and only if added, nothing was lost, the queue ended
    /// empty, and each taker saw each adder's ids in the order they were added. Returns
    /// every added id with its prompt.
    #[track_caller]
    pub fn check(&self, queue: &[String]) -> BTreeMap<&str, &str> {
        let mut prompt_of: BTreeMap<&str, &str> = BTreeMap::new();
        for (id, prompt) in self.added.iter().flatten() {
            assert!(prompt_of.insert(id, prompt).is_none(), "two adds printed the same id {id}");
        }
        assert_eq!(prompt_of.len(), self.added.iter().map(Vec::len).sum::<usize>());

        let mut handed_out: BTreeMap<&str, usize> = BTreeMap::new();
        for (t, taker) in self.taken.iter().enumerate() {
            for id in &taker.ids {
                assert!(prompt_of.contains_key(id.as_str()), "taker {t} got {id}, which no add printed");
                if let Some(other) = handed_out.insert(id, t) {
                    panic!("{id} was handed out twice (takers {other} and {t})");
                }
            }
        }

        let queued: BTreeSet<&str> = queue.iter().map(String::as_str).collect();
        assert_eq!(queued.len(), queue.len(), "the queue holds a duplicate id");
        for id in queue {
            assert!(prompt_of.contains_key(id.as_str()), "the queue holds {id}, which no add printed");
            assert!(!handed_out.contains_key(id.as_str()), "{id} is still queued but was handed out");
        }
        let lost: Vec<&&str> =
            prompt_of.keys().filter(|id| !queued.contains(**id) && !handed_out.contains_key(**id)).collect();
        assert!(lost.is_empty(), "{} ids were lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
        assert!(queue.is_empty(), "the takers stopped on an empty queue, yet {} ids are queued", queue.len());

        // FIFO: each adder's ids were queued in its order, so each taker saw them in that order.
        let position: BTreeMap<&str, (usize, usize)> = self
            .added
            .iter()
            .enumerate()
            .flat_map(|(a, ids)| ids.iter().enumerate().map(move |(i, (id, _))| (id.as_str(), (a, i))))
            .collect();
        for (t, taker) in self.taken.iter().enumerate() {
            let mut last_of_adder: BTreeMap<usize, usize> = BTreeMap::new();
            for id in &taker.ids {
                let (a, i) = position[id.as_str()];
                if let Some(prev) = last_of_adder.insert(a, i) {
                    assert!(prev < i, "taker {t} got adder {a}'s #{i} after its #{prev}: not FIFO");
                }
            }
        }
        prompt_of
    }

    /// One line for the test log.
    pub fn summary(&self) -> String {
        let empty: usize = self.taken.iter().map(|t| t.empty).sum();
        let nexts: usize = self.taken.iter().map(|t| t.ids.len()).sum::<usize>() + empty;
        format!(
            "{} adds by {} adders at a time, {nexts} nexts ({empty} empty) by {} takers, in {:.1?}",
            self.added.iter().map(Vec::len).sum::<usize>(),
            self.added.len(),
            self.taken.len(),
            self.elapsed
        )
    }
}
