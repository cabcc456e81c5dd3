//! Who held a number at a given time: the question a phone call asks (design §4).

use super::number::PhoneNumber;
use super::pool::Pool;
use super::session::{Session, SessionId};

/// The session(s) a call to a tracking number can be attributed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// The number was leased to this session when the call started.
    Attributed(SessionId),
    /// No live lease, but this session's lease ended within the attribution window.
    Late(SessionId),
    /// The number was recycled: the current holder and the one it was taken from are
    /// both candidates (current first).
    Ambiguous(SessionId, SessionId),
    /// Nobody can be matched.
    Nobody,
}

impl Pool {
    /// Who held `number` at time `t`, or `None` if the number is not in this pool.
    ///
    /// `t` may be a little in the past (a call reported late by its provider): a call
    /// that started while the previous lease was live goes to that lease's holder.
    pub fn who_held(&self, number: &PhoneNumber, t: u64) -> Option<Holder> {
        let slot = self.slot(*self.by_number.get(number)?)?;
        let window = self.settings.attribution_window_secs;
        let known = |id: &SessionId| self.sessions.contains_key(id);
        if let Some(lease) = slot.lease.as_ref().filter(|l| t >= l.granted_at) {
            if let Some(prev) = lease
                .recycled_from
                .as_ref()
                .filter(|p| t.saturating_sub(p.until) <= window && known(&p.session))
            {
                return Some(Holder::Ambiguous(lease.session, prev.session));
            }
            return Some(Holder::Attributed(lease.session));
        }
        // A lease is live in [from, until): at `until` it has ended (rule 5: a lease is
        // gone at its expiry second), so a call in that second is late.
        let holder = match &slot.last_holder {
            Some(h) if t >= h.from && t < h.until && known(&h.session) => {
                Holder::Attributed(h.session)
            }
            Some(h) if t >= h.until && t - h.until <= window && known(&h.session) => {
                Holder::Late(h.session)
            }
            _ => Holder::Nobody,
        };
        Some(holder)
    }

    /// A copy of a session's data, for a call record.
    pub fn session_snapshot(&self, id: &SessionId) -> Option<Session> {
        self.sessions.get(id).cloned()
    }
}
