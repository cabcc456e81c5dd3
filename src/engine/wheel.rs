//! A hashed timer wheel of lease expiries, one tick per second.
//!
//! Every leased slot is linked into the bucket `due % BUCKETS`. Scheduling, moving (a
//! renewal) and cancelling are O(1) unlink/link operations on intrusive lists, so a
//! renewal leaves nothing behind: a busy visitor who renews every few seconds costs the
//! same memory as one who never does. Advancing the wheel visits one bucket per elapsed
//! second; entries due in a later round stay where they are. A lease of the longest
//! allowed timeout (86,400 s) is passed over 86,400 / BUCKETS times in its life, a cost
//! bounded by a constant, and buckets are only allocated once the wheel is used.

use serde::{Deserialize, Serialize};

const NIL: u32 = u32::MAX;
/// Number of buckets. A power of two; 512 × 8 bytes per pool keeps ten thousand pools
/// under 40 MB while a default 1,800 s lease is passed over only three or four times.
pub const BUCKETS: u64 = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    prev: u32,
    next: u32,
    bucket: u32,
    due: u64,
}

const VACANT: Entry = Entry {
    prev: NIL,
    next: NIL,
    bucket: NIL,
    due: 0,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    head: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerWheel {
    entries: Vec<Entry>,
    buckets: Vec<Bucket>,
    /// Every second up to and including this one has been processed.
    processed: u64,
    len: usize,
}

impl TimerWheel {
    /// A wheel whose clock starts at `now`.
    pub fn new(now: u64) -> Self {
        TimerWheel {
            entries: Vec::new(),
            buckets: Vec::new(),
            processed: now,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// When `slot` is due, if it is scheduled.
    pub fn due(&self, slot: u32) -> Option<u64> {
        self.entries
            .get(slot as usize)
            .filter(|e| e.bucket != NIL)
            .map(|e| e.due)
    }

    /// Schedules `slot` at `due`, moving it if it was scheduled already.
    pub fn schedule(&mut self, slot: u32, due: u64) {
        self.cancel(slot);
        if self.buckets.is_empty() {
            self.buckets = vec![Bucket { head: NIL }; BUCKETS as usize];
        }
        let i = slot as usize;
        if i >= self.entries.len() {
            self.entries.resize(i + 1, VACANT);
        }
        // A due time already processed goes in the next bucket to be visited, so that
        // the next `expire` still finds it.
        let bucket = (due.max(self.processed + 1) % BUCKETS) as u32;
        let head = self.buckets[bucket as usize].head;
        self.entries[i] = Entry {
            prev: NIL,
            next: head,
            bucket,
            due,
        };
        if head != NIL {
            self.entries[head as usize].prev = slot;
        }
        self.buckets[bucket as usize].head = slot;
        self.len += 1;
    }

    /// Unschedules `slot`. Returns whether it was scheduled.
    pub fn cancel(&mut self, slot: u32) -> bool {
        let Some(e) = self.entries.get(slot as usize).copied() else {
            return false;
        };
        if e.bucket == NIL {
            return false;
        }
        match e.prev {
            NIL => self.buckets[e.bucket as usize].head = e.next,
            p => self.entries[p as usize].next = e.next,
        }
        if e.next != NIL {
            self.entries[e.next as usize].prev = e.prev;
        }
        self.entries[slot as usize] = VACANT;
        self.len -= 1;
        true
    }

    /// Removes every slot due at or before `now` and appends it to `out` in due order
    /// (ties in any order). Time never goes backwards: an older `now` does nothing.
    pub fn expire(&mut self, now: u64, out: &mut Vec<u32>) {
        if now <= self.processed {
            return;
        }
        let start = out.len();
        if self.len > 0 {
            let ticks = (now - self.processed).min(BUCKETS);
            for t in 1..=ticks {
                let bucket = ((self.processed + t) % BUCKETS) as usize;
                let mut cur = self.buckets[bucket].head;
                while cur != NIL {
                    let e = self.entries[cur as usize];
                    if e.due <= now {
                        out.push(cur);
                    }
                    cur = e.next;
                }
            }
            // Release order must follow due order (rule 4: the free list is FIFO by
            // release time); ties are broken by slot so replays are deterministic.
            let entries = &self.entries;
            out[start..].sort_unstable_by_key(|&s| (entries[s as usize].due, s));
            for &slot in &out[start..] {
                self.cancel(slot);
            }
        }
        self.processed = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expire(w: &mut TimerWheel, now: u64) -> Vec<u32> {
        let mut out = Vec::new();
        w.expire(now, &mut out);
        out
    }

    #[test]
    fn expired_slots_come_out_in_due_order() {
        let mut w = TimerWheel::new(0);
        w.schedule(9, 30);
        w.schedule(8, 10);
        w.schedule(7, 20);
        w.schedule(6, 10);
        assert_eq!(expire(&mut w, 100), vec![6, 8, 7, 9]);
    }

    #[test]
    fn expires_exactly_when_due() {
        let mut w = TimerWheel::new(1000);
        w.schedule(1, 1010);
        w.schedule(2, 1011);
        assert_eq!(expire(&mut w, 1009), Vec::<u32>::new());
        assert_eq!(expire(&mut w, 1010), vec![1]);
        assert_eq!(expire(&mut w, 1010), Vec::<u32>::new());
        assert_eq!(expire(&mut w, 1011), vec![2]);
        assert!(w.is_empty());
    }

    #[test]
    fn rescheduling_moves_without_leaving_garbage() {
        let mut w = TimerWheel::new(0);
        w.schedule(5, 10);
        for due in 11..10_000 {
            w.schedule(5, due);
        }
        assert_eq!(w.len(), 1);
        assert_eq!(w.due(5), Some(9_999));
        assert_eq!(expire(&mut w, 9_998), Vec::<u32>::new());
        assert_eq!(expire(&mut w, 9_999), vec![5]);
    }

    #[test]
    fn entries_of_later_rounds_wait_their_turn() {
        let mut w = TimerWheel::new(0);
        w.schedule(1, 5);
        w.schedule(2, 5 + BUCKETS);
        w.schedule(3, 5 + 3 * BUCKETS);
        assert_eq!(expire(&mut w, 5), vec![1]);
        assert_eq!(expire(&mut w, 4 + BUCKETS), Vec::<u32>::new());
        assert_eq!(expire(&mut w, 5 + BUCKETS), vec![2]);
        // A jump of many rounds at once still finds everything due, and only that.
        w.schedule(4, 10 * BUCKETS);
        assert_eq!(expire(&mut w, 9 * BUCKETS), vec![3]);
        assert_eq!(expire(&mut w, 20 * BUCKETS), vec![4]);
    }

    #[test]
    fn due_times_in_the_past_expire_at_the_next_advance() {
        let mut w = TimerWheel::new(100);
        w.schedule(1, 50);
        assert_eq!(expire(&mut w, 101), vec![1]);
    }

    #[test]
    fn cancel_unlinks_from_any_position() {
        let mut w = TimerWheel::new(0);
        for s in 0..4 {
            w.schedule(s, 7);
        }
        assert!(w.cancel(1));
        assert!(!w.cancel(1));
        assert!(w.cancel(3));
        assert!(w.cancel(0));
        assert_eq!(w.len(), 1);
        assert_eq!(w.due(2), Some(7));
        assert_eq!(w.due(1), None);
        assert_eq!(expire(&mut w, 7), vec![2]);
    }
}
