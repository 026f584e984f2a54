//! The control queue: pending control actions ordered by the time they fall due.
//!
//! A control samples the solved circuit and, when it wants to act, *pushes* an action due
//! `delay` seconds after the present time; the solution loop then executes actions from the
//! queue. This is OpenDSS's `TControlQueue`, with its exact ordering rules:
//!
//! - actions are kept sorted by due time; an action pushed with the same due time as actions
//!   already queued goes *before* them (so ties execute last-pushed first);
//! - [`ControlQueue::pop_nearest`] takes every action due at the earliest due time (STATIC
//!   and EVENT control modes); [`ControlQueue::pop_due`] takes every action due at or before
//!   a given time (TIME mode);
//! - a control that resets before its action falls due deletes it by the handle that
//!   [`ControlQueue::push`] returned.
//!
//! ```
//! use vgrid_powerflow::control::queue::{Action, ControlQueue, Owner};
//! let mut q = ControlQueue::default();
//! let slow = q.push(30.0, Owner::Regulator(1), Action::TapChange);
//! q.push(15.0, Owner::Regulator(0), Action::TapChange);
//! q.push(30.0, Owner::Regulator(2), Action::TapChange);
//! // The nearest time is 15 s: only regulator 0 acts.
//! assert_eq!(q.pop_nearest().unwrap().0, 15.0);
//! // Regulator 1 goes back in band and withdraws its action.
//! q.delete(slow);
//! let (t, due) = q.pop_nearest().unwrap();
//! assert_eq!((t, due.len()), (30.0, 1));
//! assert!(q.is_empty());
//! ```

/// Which control owns an action: an index into the regulator or capacitor-control table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Regulator(usize),
    CapControl(usize),
}

/// What the owner will do when the action falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Regulator: move the tap by the pending change (OpenDSS `ACTION_TAPCHANGE`).
    TapChange,
    /// Regulator: toggle between forward and reverse mode (OpenDSS `ACTION_REVERSE`).
    Reverse,
    /// Capacitor control: carry out the pending open/close (the pending change is re-read
    /// from the control when the action executes, as OpenDSS does).
    Switch,
}

/// One queued action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueuedAction {
    /// Due time, seconds from hour 0.
    pub time_s: f64,
    pub owner: Owner,
    pub action: Action,
    pub handle: u64,
}

/// Pending control actions sorted by due time.
#[derive(Debug, Clone, Default)]
pub struct ControlQueue {
    actions: Vec<QueuedAction>,
    last_handle: u64,
}

impl ControlQueue {
    /// Queue `action` of `owner`, due at `time_s`; returns its handle (never 0).
    pub fn push(&mut self, time_s: f64, owner: Owner, action: Action) -> u64 {
        self.last_handle += 1;
        let handle = self.last_handle;
        let at = self
            .actions
            .iter()
            .position(|a| time_s <= a.time_s)
            .unwrap_or(self.actions.len());
        self.actions.insert(
            at,
            QueuedAction {
                time_s,
                owner,
                action,
                handle,
            },
        );
        handle
    }

    /// Remove the action with this handle, if still queued.
    pub fn delete(&mut self, handle: u64) {
        if let Some(i) = self.actions.iter().position(|a| a.handle == handle) {
            self.actions.remove(i);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// The queued actions, earliest first.
    pub fn actions(&self) -> &[QueuedAction] {
        &self.actions
    }

    pub fn clear(&mut self) {
        self.actions.clear();
    }

    /// Remove and return every action due at the earliest due time, in execution order,
    /// with that time; `None` when the queue is empty.
    pub fn pop_nearest(&mut self) -> Option<(f64, Vec<QueuedAction>)> {
        let t = self.actions.first()?.time_s;
        Some((t, self.pop_due(t)))
    }

    /// Remove and return the first action due at or before `time_s` (OpenDSS `Pop`). The
    /// solution loop pops one action at a time, so an action pushed while executing another
    /// one that is already due is executed in the same pass, as in OpenDSS.
    pub fn pop_first_due(&mut self, time_s: f64) -> Option<QueuedAction> {
        let i = self.actions.iter().position(|a| a.time_s <= time_s)?;
        Some(self.actions.remove(i))
    }

    /// Earliest due time, if any action is queued.
    pub fn nearest_time(&self) -> Option<f64> {
        self.actions.first().map(|a| a.time_s)
    }

    /// Remove and return every action due at or before `time_s`, in execution order.
    pub fn pop_due(&mut self, time_s: f64) -> Vec<QueuedAction> {
        let n = self
            .actions
            .iter()
            .take_while(|a| a.time_s <= time_s)
            .count();
        self.actions.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_execute_last_pushed_first() {
        let mut q = ControlQueue::default();
        q.push(15.0, Owner::Regulator(0), Action::TapChange);
        q.push(15.0, Owner::Regulator(1), Action::TapChange);
        q.push(10.0, Owner::CapControl(0), Action::Switch);
        let (t, due) = q.pop_nearest().unwrap();
        assert_eq!(t, 10.0);
        assert_eq!(due[0].owner, Owner::CapControl(0));
        let (_, due) = q.pop_nearest().unwrap();
        let owners: Vec<_> = due.iter().map(|a| a.owner).collect();
        assert_eq!(owners, vec![Owner::Regulator(1), Owner::Regulator(0)]);
        assert!(q.pop_nearest().is_none());
    }

    #[test]
    fn pop_due_takes_everything_up_to_the_time() {
        let mut q = ControlQueue::default();
        q.push(5.0, Owner::Regulator(0), Action::TapChange);
        q.push(20.0, Owner::Regulator(1), Action::TapChange);
        q.push(10.0, Owner::Regulator(2), Action::Reverse);
        assert_eq!(q.pop_due(10.0).len(), 2);
        assert_eq!(q.len(), 1);
        assert!(q.pop_due(19.0).is_empty());
    }

    #[test]
    fn handles_are_unique_and_delete_is_idempotent() {
        let mut q = ControlQueue::default();
        let a = q.push(1.0, Owner::Regulator(0), Action::TapChange);
        let b = q.push(1.0, Owner::Regulator(0), Action::TapChange);
        assert_ne!(a, b);
        q.delete(a);
        q.delete(a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.actions()[0].handle, b);
    }
}
