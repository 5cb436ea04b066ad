//! Property test: random sequences of queue operations against a simple reference model of Go's
//! queue, checking the invariants after every step.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use proptest::prelude::*;

use crate::{DelayingQueue, QueueConfig};

#[derive(Clone, Debug)]
enum Op {
    Add(u8),
    Get,
    /// Done for the n-th item currently processing (modulo their number), or an unknown item.
    Done(usize),
    AddAfter(u8, u64),
    Advance(u64),
    ShutDown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6).prop_map(Op::Add),
        4 => Just(Op::Get),
        4 => (0usize..8).prop_map(Op::Done),
        3 => ((0u8..6), (0u64..5)).prop_map(|(k, d)| Op::AddAfter(k, d)),
        2 => (0u64..6).prop_map(Op::Advance),
        1 => Just(Op::ShutDown),
    ]
}

/// Go's queue, written as plainly as possible.
#[derive(Default)]
struct Model {
    queue: VecDeque<u8>,
    dirty: HashSet<u8>,
    processing: Vec<u8>,
    shutting_down: bool,
    now: u64,
    seq: u64,
    /// item -> (ready_at, seq)
    waiting: BTreeMap<u8, (u64, u64)>,
}

impl Model {
    fn add(&mut self, k: u8) {
        if self.shutting_down || !self.dirty.insert(k) {
            return;
        }
        if !self.processing.contains(&k) {
            self.queue.push_back(k);
        }
    }

    fn get(&mut self) -> Option<Option<u8>> {
        match self.queue.pop_front() {
            Some(k) => {
                self.dirty.remove(&k);
                self.processing.push(k);
                Some(Some(k))
            }
            None if self.shutting_down => Some(None),
            None => None,
        }
    }

    fn done(&mut self, k: u8) {
        let Some(pos) = self.processing.iter().position(|p| *p == k) else {
            return;
        };
        self.processing.remove(pos);
        if self.dirty.contains(&k) {
            self.queue.push_back(k);
        }
    }

    fn add_after(&mut self, k: u8, delay: u64) {
        if self.shutting_down {
            return;
        }
        if delay == 0 {
            self.add(k);
            return;
        }
        let ready_at = self.now + delay;
        if let Some((existing, _)) = self.waiting.get(&k)
            && *existing <= ready_at
        {
            return;
        }
        self.seq += 1;
        self.waiting.insert(k, (ready_at, self.seq));
    }

    fn advance(&mut self, by: u64) {
        self.now += by;
        if self.shutting_down {
            return;
        }
        let mut ready: Vec<_> = self
            .waiting
            .iter()
            .filter(|(_, (at, _))| *at <= self.now)
            .map(|(k, (at, seq))| (*at, *seq, *k))
            .collect();
        ready.sort_unstable();
        for (_, _, k) in ready {
            self.waiting.remove(&k);
            self.add(k);
        }
    }
}

async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

async fn run(ops: Vec<Op>) {
    let queue: DelayingQueue<u8> = DelayingQueue::new(QueueConfig::default());
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Add(k) => {
                queue.add(k);
                model.add(k);
            }
            Op::Get => {
                assert_eq!(queue.try_get(), model.get(), "get disagrees");
            }
            Op::Done(n) => {
                let k = if model.processing.is_empty() {
                    100 // not an item of the queue: done must ignore it
                } else {
                    model.processing[n % model.processing.len()]
                };
                queue.done(&k);
                model.done(k);
            }
            Op::AddAfter(k, d) => {
                queue.add_after(k, Duration::from_millis(d));
                model.add_after(k, d);
            }
            Op::Advance(ms) => {
                tokio::time::advance(Duration::from_millis(ms)).await;
                settle().await;
                model.advance(ms);
            }
            Op::ShutDown => {
                queue.shut_down();
                model.shutting_down = true;
            }
        }
        queue.check_invariants();
        assert_eq!(queue.len(), model.queue.len(), "len disagrees");
        if !model.shutting_down {
            assert_eq!(
                queue.waiting_len(),
                model.waiting.len(),
                "waiting disagrees"
            );
        }
        for k in 0..6u8 {
            let known = model.dirty.contains(&k) || model.processing.contains(&k);
            assert_eq!(queue.is_known(&k), known, "bookkeeping for {k} disagrees");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_operations_keep_the_invariants_and_match_the_model(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(run(ops));
    }
}
