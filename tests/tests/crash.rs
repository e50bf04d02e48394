//! Crash safety: `kiln` processes killed with SIGKILL at random instants (while adding,
//! taking and starting) never leave the store unreadable, half-written or inconsistent.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use kiln_tests::{Kiln, SplitMix64, assert_no_panic, assert_uuid_v4, parse_rfc3339_utc, read_json};
use serde_json::Value;

/// Rounds by default; `KILN_CRASH_ROUNDS` runs more (a soak run).
const ROUNDS: usize = 300;
/// SIGKILL's number (9 on every Unix `std` supports).
const SIGKILL: i32 = 9;
/// Kills land 0..=MAX_DELAY_MS after the start; a whole command takes about 10-30 ms.
const MAX_DELAY_MS: u64 = 15;
const DEFAULT_SEED: u64 = 0x6b69_6c6e_2d63_7261;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Add,
    AddBig,
    Next,
    Start(String),
    Step,
}

/// One process of a round and how it ended.
struct Run {
    op: Op,
    killed: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn spawn(k: &Kiln, op: &Op, round: usize, n: usize) -> (Child, Option<thread::JoinHandle<()>>) {
    let prompt = format!("round {round} process {n}");
    let args: Vec<String> = match op {
        Op::Add => vec!["--json", "conversations", "add", &prompt, "--meta", "round=x"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        Op::AddBig => ["--json", "conversations", "add", "-"].map(str::to_owned).to_vec(),
        Op::Next => ["--json", "conversations", "next"].map(str::to_owned).to_vec(),
        Op::Start(id) => vec!["--json".into(), "conversations".into(), "start".into(), id.clone()],
        Op::Step => vec!["--json", "conversations", "step", &prompt, "--workflow-id", "wf"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    let mut cmd = k.command(&args);
    if *op == Op::AddBig {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("start kiln");
    // A 256 KiB prompt makes the writes long enough for kills to land inside them.
    let writer = (*op == Op::AddBig).then(|| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let body = format!("{prompt}\n{}", "big prompt line with some text\n".repeat(8 * 1024));
        thread::spawn(move || {
            // The process may be killed before it reads it all: a broken pipe is expected.
            let _ = pipe.write_all(body.as_bytes());
        })
    });
    (child, writer)
}

fn id_of(v: &Value) -> String {
    let id = v["conversation_id"].as_str().unwrap_or_else(|| panic!("no conversation_id in {v}")).to_owned();
    assert_uuid_v4(&id);
    id
}

#[test]
fn sigkill_at_random_instants_never_corrupts_the_store() {
    let seed = std::env::var("KILN_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    eprintln!("crash test seed: {seed} (set KILN_CRASH_SEED to replay another)");
    let rounds = std::env::var("KILN_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(ROUNDS);
    let mut rng = SplitMix64::new(seed);
    let started = Instant::now();

    // On the real temp filesystem, not in memory: fsync and rename are what is under test.
    let k = Kiln::new();
    k.run(["conversations", "list"]).ok(); // creates the store, warms the component cache

    // What finished processes reported.
    let mut added: Vec<(usize, String)> = Vec::new(); // (round, id) of completed adds
    let mut taken: Vec<String> = Vec::new(); // ids printed by completed nexts
    let mut started_ids: BTreeSet<String> = BTreeSet::new(); // ids of completed starts
    let mut killed: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut killed_start_targets: BTreeSet<String> = BTreeSet::new();
    let mut completed = 0usize;

    for round in 0..rounds {
        // Two or three processes at once: always an add, plus a mix of the others.
        let mut ops = vec![Op::Add];
        let extra = 1 + rng.below(2);
        for _ in 0..extra {
            let op = match rng.below(6) {
                0 | 1 => Op::Next,
                2 => Op::AddBig,
                3 => Op::Step,
                _ if !added.is_empty() => {
                    let i = usize::try_from(rng.below(added.len() as u64)).expect("an index");
                    Op::Start(added[i].1.clone())
                }
                _ => Op::Add,
            };
            ops.push(op);
        }
        let mut delays: Vec<u64> = ops.iter().map(|_| rng.below(MAX_DELAY_MS + 1)).collect();
        // Now and then let one process run to completion, so the store keeps moving.
        if rng.below(4) == 0 {
            delays[0] = 1000;
        }

        let t0 = Instant::now();
        let mut children: Vec<_> = ops.iter().enumerate().map(|(n, op)| spawn(&k, op, round, n)).collect();
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by_key(|&i| delays[i]);
        for i in order {
            if delays[i] >= 1000 {
                continue;
            }
            let deadline = t0 + Duration::from_millis(delays[i]);
            if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            // SIGKILL; harmless if it already exited (it is not reaped yet).
            let _ = children[i].0.kill();
        }
        let runs: Vec<Run> = children
            .drain(..)
            .zip(ops)
            .map(|((child, writer), op)| {
                let out = child.wait_with_output().expect("wait for kiln");
                if let Some(w) = writer {
                    w.join().expect("stdin writer");
                }
                let run = Run {
                    op,
                    killed: out.status.signal() == Some(SIGKILL),
                    code: out.status.code(),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                };
                assert!(
                    !run.stderr.contains("panicked"),
                    "round {round}: {:?} panicked: {}",
                    run.op,
                    run.stderr
                );
                run
            })
            .collect();

        for run in runs {
            let name = match &run.op {
                Op::Add | Op::AddBig => "add",
                Op::Next => "next",
                Op::Start(_) => "start",
                Op::Step => "step",
            };
            if run.killed {
                *killed.entry(name).or_default() += 1;
                if let Op::Start(id) = &run.op {
                    killed_start_targets.insert(id.clone());
                }
                continue;
            }
            let fail = || {
                format!(
                    "round {round}: {:?} exited {:?}\nstdout: {}\nstderr: {}",
                    run.op, run.code, run.stdout, run.stderr
                )
            };
            if run.op == Op::Next && run.code == Some(1) && run.stderr.contains(r#""kind":"empty""#) {
                completed += 1;
                continue;
            }
            // Whatever an earlier kill left behind, a live command must succeed.
            assert_eq!(run.code, Some(0), "{}", fail());
            completed += 1;
            let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", fail()));
            match &run.op {
                Op::Add | Op::AddBig => added.push((round, id_of(&v))),
                Op::Step => {
                    assert_eq!(v["status"], "paused", "{}", fail());
                    added.push((round, id_of(&v)));
                }
                Op::Next => taken.push(id_of(&v)),
                Op::Start(id) => {
                    assert_eq!(&id_of(&v["conversation"]), id, "{}", fail());
                    started_ids.insert(id.clone());
                }
            }
        }
    }
    let rounds_took = started.elapsed();

    // 1. The store loads: list works and agrees with index.json.
    let out = k.run(["--json", "conversations", "list"]);
    out.ok();
    let listed: Vec<String> =
        out.json().as_array().expect("list --json is an array").iter().map(id_of).collect();
    let queue = k.queue();
    assert_eq!(listed, queue, "list and index.json disagree");

    // 2. No duplicate in the index; every queued id has a valid file.
    let queued: BTreeSet<&str> = queue.iter().map(String::as_str).collect();
    assert_eq!(queued.len(), queue.len(), "duplicate ids in the index: {queue:?}");
    for id in &queue {
        check_conversation_file(&k, id);
    }

    // 3. No partial write anywhere: every file (but .kiln bookkeeping) is whole JSON, and
    //    every conversation file is a valid conversation named after its id.
    for (path, bytes) in k.snapshot() {
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{} is a partial or corrupt write ({e}): {:?}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            )
        });
        let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
        if name != "index.json" {
            let id = name.strip_suffix(".json").unwrap_or_else(|| panic!("stray file {}", path.display()));
            assert_eq!(v["conversation_id"].as_str(), Some(id), "{}", path.display());
        }
    }

    let known: BTreeSet<&str> = added
        .iter()
        .map(|(_, id)| id.as_str())
        .chain(taken.iter().map(String::as_str))
        .chain(queued.iter().copied())
        .collect();
    let orphans = k
        .snapshot()
        .keys()
        .filter_map(|p| p.file_name()?.to_str()?.strip_suffix(".json").map(str::to_owned))
        .filter(|id| id != "index" && !known.contains(id.as_str()))
        .count();

    // 4. Nothing handed out twice; nothing lost beyond what killed takers may have taken.
    let mut seen = BTreeSet::new();
    for id in &taken {
        assert!(seen.insert(id), "{id} was handed out by two nexts");
        assert!(!queued.contains(id.as_str()), "{id} was taken yet is still queued");
    }
    let unexplained: Vec<&String> = added
        .iter()
        .map(|(_, id)| id)
        .filter(|id| {
            !queued.contains(id.as_str())
                && !seen.contains(id)
                && !started_ids.contains(*id)
                && !killed_start_targets.contains(*id)
        })
        .collect();
    let killed_nexts = killed.get("next").copied().unwrap_or(0);
    assert!(
        unexplained.len() <= killed_nexts,
        "{} added ids left the queue but only {killed_nexts} nexts were killed (lost ids): {unexplained:?}",
        unexplained.len()
    );

    // 5. FIFO survived: completed adds of earlier rounds stay ahead of later ones.
    let position: BTreeMap<&str, usize> = queue.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let (mut earlier_max, mut this_round, mut this_max) = (None::<usize>, usize::MAX, None::<usize>);
    for (round, id) in &added {
        let Some(&pos) = position.get(id.as_str()) else { continue };
        if *round != this_round {
            earlier_max = earlier_max.max(this_max);
            (this_round, this_max) = (*round, None);
        }
        if let Some(max) = earlier_max {
            assert!(max < pos, "round {round}'s {id} is queued before an id of an earlier round");
        }
        this_max = this_max.max(Some(pos));
    }

    // 6. The store still works: add, then drain in FIFO order down to the new one.
    let final_id = k.add("after the crashes");
    let mut expected: Vec<String> = queue.clone();
    expected.push(final_id.clone());
    for id in &expected {
        let out = k.run(["--json", "conversations", "next"]);
        out.ok();
        assert_eq!(&id_of(&out.json()), id, "next after the crashes is not FIFO");
    }
    let out = k.run(["--json", "conversations", "next"]);
    out.failed();
    assert_eq!(out.json_error().0, "empty");
    assert_no_panic(&out);

    // 7. Temp files of killed writers were cleaned up by the writers after them.
    let tmp = k.store().join(".kiln/tmp");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp).expect("the temp dir").collect();
    assert!(leftovers.is_empty(), "temp files left in {}: {leftovers:?}", tmp.display());

    let total_killed: usize = killed.values().sum();
    assert!(total_killed >= rounds / 2, "only {total_killed} processes were killed: the test proves little");
    assert!(completed >= rounds / 4, "only {completed} processes completed: the test proves little");
    eprintln!(
        "crash: {rounds} rounds in {rounds_took:.1?}; killed {killed:?}; completed {completed}; \
         {} adds and {} nexts reported; {} queued at the end; {orphans} conversation files \
         no finished command reported (left by killed adds and nexts)",
        added.len(),
        taken.len(),
        queue.len()
    );
}

fn check_conversation_file(k: &Kiln, id: &str) {
    let path = k.conversation_path(id);
    let c = read_json(&path);
    assert_eq!(c["conversation_id"].as_str(), Some(id), "{}", path.display());
    let prompt = c["prompt"].as_str().unwrap_or_else(|| panic!("{}: no prompt", path.display()));
    assert!(prompt.starts_with("round "), "{}: unexpected prompt start", path.display());
    let created = c["created_at"].as_str().unwrap_or_else(|| panic!("{}: no created_at", path.display()));
    assert!(parse_rfc3339_utc(created).is_some(), "{}: created_at {created:?}", path.display());
}
