//! Adding numbers to a pool and taking them out (design §2 rules 8 and 9).

use super::number::PhoneNumber;
use super::pool::{LeaseEnd, Pool, Slot};
use std::collections::HashSet;

/// Why numbers could not be added. Nothing is added when any one is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    #[error("number {0} is already in this pool")]
    AlreadyInPool(PhoneNumber),
    #[error("number {0} appears twice in the request")]
    Repeated(PhoneNumber),
}

/// What removing a number did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// The number is out of the pool.
    Removed,
    /// The number is leased: it is no longer handed out and leaves when the lease ends.
    Draining,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("number {0} is not in this pool")]
pub struct NotInPool(pub PhoneNumber);

impl Pool {
    /// Adds numbers at the back of the free list, in the order given.
    pub fn add_numbers(&mut self, numbers: &[PhoneNumber], now: u64) -> Result<(), AddError> {
        self.advance(now);
        let mut seen = HashSet::with_capacity(numbers.len());
        for n in numbers {
            if self.by_number.contains_key(n) {
                return Err(AddError::AlreadyInPool(n.clone()));
            }
            if !seen.insert(n) {
                return Err(AddError::Repeated(n.clone()));
            }
        }
        for n in numbers {
            // Never a vacated slot: see `Pool::slots`.
            let slot = self.slots.len() as u32;
            self.slots.push(Some(Slot {
                number: n.clone(),
                lease: None,
                last_holder: None,
                draining: false,
            }));
            self.by_number.insert(n.clone(), slot);
            self.free.push_back(slot);
        }
        Ok(())
    }

    /// Removes a number (rule 9). A free number leaves at once; a leased one drains —
    /// or, with `force`, its lease ends now and it leaves at once.
    pub fn remove_number(
        &mut self,
        number: &PhoneNumber,
        force: bool,
        now: u64,
    ) -> Result<Removal, NotInPool> {
        let now = self.advance(now);
        let slot = *self
            .by_number
            .get(number)
            .ok_or_else(|| NotInPool(number.clone()))?;
        let leased = match self.slots[slot as usize].as_mut() {
            Some(s) if s.lease.is_some() => {
                s.draining = true;
                true
            }
            _ => false,
        };
        if !leased {
            self.free.remove(slot);
            self.vacate(slot);
            return Ok(Removal::Removed);
        }
        self.by_activity.remove(slot);
        if force {
            self.end_lease(slot, now, LeaseEnd::Forced);
            // It left now, in this call: not a later departure to report.
            self.departed.retain(|n| n != number);
            Ok(Removal::Removed)
        } else {
            Ok(Removal::Draining)
        }
    }

    /// Numbers that finished draining since the last call, for the owner to release.
    pub fn take_departed(&mut self) -> Vec<PhoneNumber> {
        std::mem::take(&mut self.departed)
    }

    /// Empties a slot for good. The caller has taken it out of every queue.
    pub(super) fn vacate(&mut self, slot: u32) {
        if let Some(s) = self.slots.get_mut(slot as usize).and_then(Option::take) {
            self.by_number.remove(&s.number);
            if s.draining {
                self.departed.push(s.number);
            }
        }
    }

    /// Every number in the pool with whether it is leased and whether it is draining.
    pub fn numbers(&self) -> impl Iterator<Item = (&PhoneNumber, bool, bool)> + '_ {
        self.slots
            .iter()
            .flatten()
            .map(|s| (&s.number, s.lease.is_some(), s.draining))
    }
}
