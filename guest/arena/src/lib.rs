//! A global allocator for a wasm guest that works in calls: an arena that hands out memory
//! by bumping a pointer and starts over whenever nothing allocated from it is still live.
//!
//! Why: a builder turn through the component makes a few thousand short-lived allocations
//! (the decoded session, the message's tokens, the reply's texts) and frees them all before
//! the call returns. Under dlmalloc that bookkeeping was ~38 K of the turn's ~267 K
//! instructions (docs/benchmarks.md). Here an allocation is an alignment and an addition, a
//! free a decrement, and growing the newest block (a `String` being written, a `Vec` being
//! pushed to) happens in place.
//!
//! What keeps it safe to use as the only allocator:
//! - The arena is one block of fixed size taken from the backing allocator on first use.
//!   Whatever does not fit (a huge input, or a call that allocates more in total than the
//!   arena holds) is served by the backing allocator, as before. Memory stays bounded by
//!   the arena plus what the backing allocator holds.
//! - The arena starts over only when its live count is zero, so no live block is ever
//!   handed out twice. Something that lives across calls (none in Kiln today) only stops
//!   the arena from starting over; allocations then fall through to the backing allocator.
//! - Single-threaded only: the state is in [`Cell`]s, and the `Sync` that a
//!   `#[global_allocator]` needs is only implemented for wasm targets without threads.

#![no_std]
// An allocator is unsafe by contract; every block says why it holds.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr;

/// An arena of `capacity` bytes in front of the allocator `backing`.
pub struct Arena<A> {
    backing: A,
    capacity: usize,
    /// Start of the arena; 0 until it is taken from `backing`.
    base: Cell<usize>,
    /// The next free byte.
    top: Cell<usize>,
    /// Blocks handed out by the arena and not yet freed.
    live: Cell<usize>,
    /// Set when `backing` could not supply the arena: everything goes to `backing`.
    unavailable: Cell<bool>,
}

// SAFETY: the arena's state is unsynchronised `Cell`s; this is sound only where there is a
// single thread, which on wasm means the target has no `atomics` feature (no shared memory).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for Arena<A> {}

/// The arena's own alignment: enough for any scalar, so most blocks need no padding.
const ARENA_ALIGN: usize = 16;

impl<A: GlobalAlloc> Arena<A> {
    /// An arena of `capacity` bytes over `backing`, taken from it on the first allocation.
    pub const fn new(backing: A, capacity: usize) -> Self {
        Self {
            backing,
            capacity,
            base: Cell::new(0),
            top: Cell::new(0),
            live: Cell::new(0),
            unavailable: Cell::new(false),
        }
    }

    /// Blocks the arena has handed out that are not yet freed (backing-allocator blocks are
    /// not counted).
    pub fn live(&self) -> usize {
        self.live.get()
    }

    /// Bytes of the arena in use, up to its newest live block (0 when it has started over).
    pub fn used(&self) -> usize {
        self.top.get() - self.base.get()
    }

    /// Whether `p` points into the arena.
    fn owns(&self, p: *mut u8) -> bool {
        let base = self.base.get();
        let p = p as usize;
        base != 0 && p >= base && p < base + self.capacity
    }

    /// The arena's start, taking the block from `backing` the first time; `None` if it
    /// could not.
    fn base(&self) -> Option<usize> {
        let base = self.base.get();
        if base != 0 {
            return Some(base);
        }
        if self.unavailable.get() {
            return None;
        }
        let block = Layout::from_size_align(self.capacity, ARENA_ALIGN)
            .ok()
            .filter(|l| l.size() > 0)
            // SAFETY: the layout has a non-zero size.
            .map(|l| unsafe { self.backing.alloc(l) })
            .filter(|p| !p.is_null());
        match block {
            Some(p) => {
                self.base.set(p as usize);
                self.top.set(p as usize);
                Some(p as usize)
            }
            None => {
                self.unavailable.set(true);
                None
            }
        }
    }

    /// A block from the arena, or `None` if it does not fit.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let base = self.base()?;
        let start = self.top.get().checked_next_multiple_of(layout.align())?;
        let end = start.checked_add(layout.size())?;
        if end > base + self.capacity {
            return None;
        }
        self.top.set(end);
        self.live.set(self.live.get() + 1);
        Some(start as *mut u8)
    }

    /// Returns an arena block: starts over when it was the last live one, and takes back
    /// the newest block's bytes at once.
    fn release(&self, p: *mut u8, size: usize) {
        let live = self.live.get() - 1;
        self.live.set(live);
        if live == 0 {
            self.top.set(self.base.get());
        } else if p as usize + size == self.top.get() {
            self.top.set(p as usize);
        }
    }
}

// SAFETY: arena blocks are disjoint while live (the bump pointer only moves back over freed
// blocks: the newest one, or everything when none is live), aligned as asked, and inside
// the arena's block; everything else is the backing allocator's, passed through unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Arena<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(p) => p,
            // SAFETY: the caller's contract for `alloc` is the backing allocator's.
            None => unsafe { self.backing.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(p) => {
                // SAFETY: `p` is a fresh arena block of `layout.size()` bytes; the arena
                // reuses memory, so it must be cleared.
                unsafe { ptr::write_bytes(p, 0, layout.size()) };
                p
            }
            // SAFETY: as for `alloc`.
            None => unsafe { self.backing.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if self.owns(p) {
            self.release(p, layout.size());
        } else {
            // SAFETY: `p` is not the arena's, so `backing` allocated it with `layout`.
            unsafe { self.backing.dealloc(p, layout) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(p) {
            // SAFETY: `p` is the backing allocator's; the caller's contract carries over.
            return unsafe { self.backing.realloc(p, layout, new_size) };
        }
        let start = p as usize;
        // The newest block grows or shrinks where it is, if the arena has the room.
        if start + layout.size() == self.top.get()
            && start.checked_add(new_size).is_some_and(|end| end <= self.base.get() + self.capacity)
        {
            self.top.set(start + new_size);
            return p;
        }
        if new_size <= layout.size() {
            return p;
        }
        // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, fits isize.
        let grown = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `grown` has a non-zero size (it is larger than the old one).
        let q = unsafe { self.alloc(grown) };
        if !q.is_null() {
            // SAFETY: both blocks are valid for the old size and do not overlap (the old one
            // is live, so the new one was not carved from it).
            unsafe { ptr::copy_nonoverlapping(p, q, layout.size()) };
            self.release(p, layout.size());
        }
        q
    }
}

#[cfg(test)]
mod tests;
