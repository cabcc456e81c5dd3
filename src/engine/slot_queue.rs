//! An intrusive FIFO of slot ids. The pool uses two: the **free list** (numbers not
//! leased, in the order they became free — rule 4) and the **activity queue** (leased
//! numbers, least recently active first — the victim of `recycle_oldest`).
//!
//! A doubly linked list threaded through a vector indexed by slot, so that every
//! operation is O(1), including taking a slot out of the middle — which rule 3 needs
//! when an expired session comes back and its old number is still free, and which a
//! renewal needs to move its lease to the back of the activity queue.

use serde::{Deserialize, Serialize};

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Link {
    prev: u32,
    next: u32,
    linked: bool,
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
    linked: false,
};

/// FIFO of slot ids: `front`/`pop_front` give the slot queued the longest ago.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQueue {
    links: Vec<Link>,
    head: u32,
    tail: u32,
    len: usize,
}

impl Default for SlotQueue {
    fn default() -> Self {
        SlotQueue {
            links: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl SlotQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, slot: u32) -> bool {
        self.links.get(slot as usize).is_some_and(|l| l.linked)
    }

    /// Appends `slot` as the newest. A slot already queued stays where it is.
    pub fn push_back(&mut self, slot: u32) {
        let i = slot as usize;
        if i >= self.links.len() {
            self.links.resize(i + 1, UNLINKED);
        }
        if self.links[i].linked {
            return;
        }
        self.links[i] = Link {
            prev: self.tail,
            next: NIL,
            linked: true,
        };
        match self.tail {
            NIL => self.head = slot,
            t => self.links[t as usize].next = slot,
        }
        self.tail = slot;
        self.len += 1;
    }

    /// The slot queued the longest ago, left in place.
    pub fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// Takes the slot queued the longest ago.
    pub fn pop_front(&mut self) -> Option<u32> {
        let head = self.head;
        (head != NIL).then(|| {
            self.remove(head);
            head
        })
    }

    /// Takes `slot` out wherever it is. Returns whether it was there.
    pub fn remove(&mut self, slot: u32) -> bool {
        if !self.contains(slot) {
            return false;
        }
        let Link { prev, next, .. } = self.links[slot as usize];
        match prev {
            NIL => self.head = next,
            p => self.links[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.links[n as usize].prev = prev,
        }
        self.links[slot as usize] = UNLINKED;
        self.len -= 1;
        true
    }

    /// The slots from oldest to newest.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let mut cur = self.head;
        std::iter::from_fn(move || {
            (cur != NIL).then(|| {
                let here = cur;
                cur = self.links[here as usize].next;
                here
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_release_order() {
        let mut f = SlotQueue::default();
        for s in [3, 1, 4, 0] {
            f.push_back(s);
        }
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![3, 1, 4, 0]);
        assert_eq!(f.pop_front(), Some(3));
        f.push_back(3);
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![1, 4, 0, 3]);
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn removes_from_the_middle_and_ends() {
        let mut f = SlotQueue::default();
        for s in 0..5 {
            f.push_back(s);
        }
        assert!(f.remove(2));
        assert!(!f.remove(2));
        assert!(f.remove(0));
        assert!(f.remove(4));
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(f.pop_front(), Some(1));
        assert_eq!(f.pop_front(), Some(3));
        assert_eq!(f.pop_front(), None);
        assert!(f.is_empty());
        assert!(!f.contains(99));
    }

    #[test]
    fn pushing_a_linked_slot_twice_does_not_duplicate_it() {
        let mut f = SlotQueue::default();
        f.push_back(7);
        f.push_back(7);
        assert_eq!(f.len(), 1);
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![7]);
    }
}
