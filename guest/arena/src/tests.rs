extern crate std;

use std::alloc::System;
use std::cell::Cell;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// The system allocator, counting the blocks it has out.
#[derive(Default)]
struct Counting {
    out: Cell<usize>,
    /// Refuse blocks at least this large (to stand for a backing allocator that is out of
    /// memory).
    refuse_from: Option<usize>,
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.refuse_from.is_some_and(|n| layout.size() >= n) {
            return ptr::null_mut();
        }
        self.out.set(self.out.get() + 1);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        self.out.set(self.out.get() - 1);
        unsafe { System.dealloc(p, layout) }
    }
}

fn arena(capacity: usize) -> Arena<Counting> {
    Arena::new(Counting::default(), capacity)
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("layout")
}

#[test]
fn blocks_come_from_the_arena_aligned_and_disjoint_and_it_starts_over_when_all_are_freed() {
    let a = arena(4096);
    let l1 = layout(3, 1);
    let l2 = layout(40, 8);
    let l3 = layout(16, 16);
    let (p1, p2, p3) = unsafe { (a.alloc(l1), a.alloc(l2), a.alloc(l3)) };
    assert!(a.owns(p1) && a.owns(p2) && a.owns(p3));
    assert_eq!(p2 as usize % 8, 0);
    assert_eq!(p3 as usize % 16, 0);
    assert!(p1 as usize + 3 <= p2 as usize && p2 as usize + 40 <= p3 as usize);
    assert_eq!(a.live(), 3);
    // One backing block: the arena itself.
    assert_eq!(a.backing.out.get(), 1);
    unsafe {
        a.dealloc(p2, l2);
        a.dealloc(p1, l1);
    }
    assert_eq!(a.live(), 1);
    assert!(a.used() > 0);
    unsafe { a.dealloc(p3, l3) };
    assert_eq!((a.live(), a.used()), (0, 0));
    // Started over: the next block is the arena's first byte again.
    let again = unsafe { a.alloc(l1) };
    assert_eq!(again, p1);
    unsafe { a.dealloc(again, l1) };
}

#[test]
fn freeing_the_newest_block_gives_its_bytes_back_at_once() {
    let a = arena(4096);
    let keep = unsafe { a.alloc(layout(8, 8)) };
    let used = a.used();
    let tmp = unsafe { a.alloc(layout(100, 1)) };
    unsafe { a.dealloc(tmp, layout(100, 1)) };
    assert_eq!(a.used(), used);
    unsafe { a.dealloc(keep, layout(8, 8)) };
}

#[test]
fn the_newest_block_grows_in_place_and_an_older_one_moves_with_its_bytes() {
    let a = arena(4096);
    let l = layout(4, 1);
    unsafe {
        let old = a.alloc(l);
        ptr::copy_nonoverlapping(b"abcd".as_ptr(), old, 4);
        let newest = a.alloc(l);
        ptr::copy_nonoverlapping(b"wxyz".as_ptr(), newest, 4);

        let grown = a.realloc(newest, l, 64);
        assert_eq!(grown, newest, "the newest block grows where it is");
        assert_eq!(std::slice::from_raw_parts(grown, 4), b"wxyz");

        let moved = a.realloc(old, l, 64);
        assert_ne!(moved, old, "an older block cannot grow over its neighbour");
        assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
        assert_eq!(std::slice::from_raw_parts(grown, 4), b"wxyz", "the neighbour is untouched");
        assert_eq!(a.live(), 2);

        // Shrinking keeps the block where it is.
        assert_eq!(a.realloc(grown, layout(64, 1), 2), grown);
        a.dealloc(grown, layout(2, 1));
        a.dealloc(moved, layout(64, 1));
    }
    assert_eq!((a.live(), a.used()), (0, 0));
}

#[test]
fn what_does_not_fit_is_served_by_the_backing_allocator_and_returned_to_it() {
    let a = arena(256);
    unsafe {
        let small = a.alloc(layout(200, 8));
        assert!(a.owns(small));
        let big = a.alloc(layout(100, 8));
        assert!(!big.is_null() && !a.owns(big), "the arena is full: the backing allocator serves it");
        assert_eq!(a.backing.out.get(), 2);
        // Growing an arena block beyond the arena moves it to the backing allocator.
        let moved = a.realloc(small, layout(200, 8), 1000);
        assert!(!a.owns(moved));
        assert_eq!(a.live(), 0);
        a.dealloc(big, layout(100, 8));
        a.dealloc(moved, layout(1000, 8));
    }
    assert_eq!(a.backing.out.get(), 1, "only the arena itself is still out");
}

#[test]
fn a_block_that_stays_live_only_stops_the_arena_from_starting_over() {
    let a = arena(128);
    unsafe {
        let kept = a.alloc(layout(8, 8));
        // Calls come and go; the kept block pins the arena, which fills up, and then the
        // backing allocator takes over.
        for _ in 0..100 {
            let p = a.alloc(layout(24, 8));
            assert!(!p.is_null());
            p.write(7);
            a.dealloc(p, layout(24, 8));
        }
        let q = a.alloc(layout(64, 8));
        let r = a.alloc(layout(64, 8));
        assert!(a.owns(q) && !a.owns(r));
        a.dealloc(r, layout(64, 8));
        a.dealloc(q, layout(64, 8));
        a.dealloc(kept, layout(8, 8));
    }
    assert_eq!((a.live(), a.used(), a.backing.out.get()), (0, 0, 1));
}

#[test]
fn zeroed_blocks_are_zero_even_where_the_arena_reuses_memory() {
    let a = arena(1024);
    unsafe {
        let dirty = a.alloc(layout(64, 1));
        ptr::write_bytes(dirty, 0xAB, 64);
        a.dealloc(dirty, layout(64, 1));
        let clean = a.alloc_zeroed(layout(64, 1));
        assert_eq!(clean, dirty);
        assert!(std::slice::from_raw_parts(clean, 64).iter().all(|&b| b == 0));
        a.dealloc(clean, layout(64, 1));
    }
}

#[test]
fn without_an_arena_from_the_backing_allocator_everything_goes_to_it() {
    let a = Arena::new(Counting { refuse_from: Some(1 << 20), ..Counting::default() }, 1 << 20);
    unsafe {
        let p = a.alloc(layout(32, 8));
        assert!(!p.is_null() && !a.owns(p));
        let p = a.realloc(p, layout(32, 8), 64);
        assert!(!p.is_null());
        a.dealloc(p, layout(64, 8));
    }
    assert_eq!((a.live(), a.backing.out.get()), (0, 0));
}

/// One step of a random allocation history.
#[derive(Debug, Clone)]
enum Op {
    Alloc { size: usize, align_log2: u32 },
    Free(usize),
    Realloc(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1usize..300, 0u32..6).prop_map(|(size, align_log2)| Op::Alloc { size, align_log2 }),
        any::<usize>().prop_map(Op::Free),
        (any::<usize>(), 1usize..600).prop_map(|(i, size)| Op::Realloc(i, size)),
    ]
}

proptest! {
    /// Any history: every live block keeps its bytes and its alignment, no two overlap, and
    /// once all are freed the arena has started over and the backing allocator has nothing
    /// out but the arena.
    #[test]
    fn blocks_keep_their_bytes_and_never_overlap(ops in proptest::collection::vec(op(), 1..200)) {
        let a = arena(2048);
        // (pointer, layout, fill byte)
        let mut blocks: Vec<(*mut u8, Layout, u8)> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            let fill = (n % 251) as u8 + 1;
            unsafe {
                match op {
                    Op::Alloc { size, align_log2 } => {
                        let l = layout(size, 1 << align_log2);
                        let p = a.alloc(l);
                        prop_assert!(!p.is_null());
                        ptr::write_bytes(p, fill, size);
                        blocks.push((p, l, fill));
                    }
                    Op::Free(i) if !blocks.is_empty() => {
                        let (p, l, _) = blocks.swap_remove(i % blocks.len());
                        a.dealloc(p, l);
                    }
                    Op::Realloc(i, size) if !blocks.is_empty() => {
                        let i = i % blocks.len();
                        let (p, l, old_fill) = blocks[i];
                        let q = a.realloc(p, l, size);
                        prop_assert!(!q.is_null());
                        let kept = l.size().min(size);
                        prop_assert!(std::slice::from_raw_parts(q, kept).iter().all(|&b| b == old_fill));
                        ptr::write_bytes(q, fill, size);
                        blocks[i] = (q, layout(size, l.align()), fill);
                    }
                    _ => {}
                }
            }
            let mut spans: Vec<(usize, usize)> = blocks.iter().map(|(p, l, _)| (*p as usize, l.size())).collect();
            spans.sort_unstable();
            for w in spans.windows(2) {
                prop_assert!(w[0].0 + w[0].1 <= w[1].0, "blocks overlap");
            }
            for (p, l, f) in &blocks {
                prop_assert_eq!(*p as usize % l.align(), 0);
                let bytes = unsafe { std::slice::from_raw_parts(*p, l.size()) };
                prop_assert!(bytes.iter().all(|b| b == f), "a block lost its bytes");
            }
        }
        for (p, l, _) in blocks.drain(..) {
            unsafe { a.dealloc(p, l) };
        }
        prop_assert_eq!((a.live(), a.used()), (0, 0));
        prop_assert!(a.backing.out.get() <= 1);
    }
}
