//! Group commit: sessions that commit at the same time share one flush + fsync.
//!
//! A commit applies its transaction in memory first, then asks for durability. Whoever
//! asks while no sync is running becomes the leader: it notes how many commits have asked
//! so far, runs the sync (which covers every transaction applied before it started), and
//! marks all of them durable. Commits that ask while a sync is running wait for the next
//! one, which one of them leads. No commit returns before a sync that started after its
//! transaction was applied has succeeded; a failed sync marks nothing durable, returns the
//! error to its leader, and the waiters try again themselves (each gets its own answer).

use std::sync::{Condvar, Mutex, MutexGuard};

/// Coordinates durable syncs among concurrent committers.
#[derive(Debug, Default)]
pub(crate) struct GroupSync {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Commits that have asked for durability so far (the last ticket handed out).
    tickets: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A sync is running.
    leading: bool,
    /// Syncs run so far (successful or not).
    syncs: u64,
}

/// Clears `leading` even if the sync panics, so waiters are never stranded.
struct Lead<'a> {
    group: &'a GroupSync,
    covered: Option<u64>,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut st = self.group.lock();
        st.leading = false;
        st.syncs += 1;
        if let Some(upto) = self.covered {
            st.durable = st.durable.max(upto);
        }
        drop(st);
        self.group.done.notify_all();
    }
}

impl GroupSync {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain counters, consistent at every unlock: a panic elsewhere while
        // holding the lock cannot leave it half-updated.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once a sync that started after this call has succeeded (running `sync`
    /// here if no other caller is), or with the error of the sync this caller ran.
    pub(crate) fn sync<E>(&self, sync: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        let mut st = self.lock();
        st.tickets += 1;
        let mine = st.tickets;
        loop {
            if st.durable >= mine {
                return Ok(());
            }
            if !st.leading {
                st.leading = true;
                let upto = st.tickets;
                drop(st);
                let mut lead = Lead {
                    group: self,
                    covered: None,
                };
                let result = sync();
                if result.is_ok() {
                    lead.covered = Some(upto);
                }
                drop(lead);
                return result;
            }
            st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Syncs run so far.
    #[cfg(test)]
    fn syncs(&self) -> u64 {
        self.lock().syncs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Waits until `n` callers are blocked in `sync` behind a running leader.
    fn wait_for_tickets(g: &GroupSync, n: u64) {
        for _ in 0..2000 {
            if g.lock().tickets >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("callers did not arrive");
    }

    #[test]
    fn callers_arriving_during_a_sync_share_the_next_one() {
        let g = Arc::new(GroupSync::default());
        let runs = Arc::new(AtomicU64::new(0));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        // The first caller leads a sync that blocks until released.
        let leader = {
            let (g, runs) = (g.clone(), runs.clone());
            std::thread::spawn(move || {
                g.sync(|| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok::<(), ()>(())
                })
            })
        };
        started_rx.recv().unwrap();
        // Four more arrive while it runs: none of them may be covered by it.
        let followers: Vec<_> = (0..4)
            .map(|_| {
                let (g, runs) = (g.clone(), runs.clone());
                std::thread::spawn(move || {
                    g.sync(|| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok::<(), ()>(())
                    })
                })
            })
            .collect();
        wait_for_tickets(&g, 5);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "followers wait for the leader"
        );
        release_tx.send(()).unwrap();
        assert_eq!(leader.join().unwrap(), Ok(()));
        for f in followers {
            assert_eq!(f.join().unwrap(), Ok(()));
        }
        // One more sync covers all four followers.
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(g.syncs(), 2);
    }

    #[test]
    fn a_failed_sync_makes_nobody_durable_and_waiters_retry() {
        let g = Arc::new(GroupSync::default());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let leader = {
            let g = g.clone();
            std::thread::spawn(move || {
                g.sync(|| {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Err("disk full")
                })
            })
        };
        started_rx.recv().unwrap();
        let follower = {
            let g = g.clone();
            std::thread::spawn(move || g.sync(|| Err::<(), _>("still full")))
        };
        wait_for_tickets(&g, 2);
        release_tx.send(()).unwrap();
        assert_eq!(leader.join().unwrap(), Err("disk full"));
        // The follower was not covered by the failed sync: it ran its own.
        assert_eq!(follower.join().unwrap(), Err("still full"));
        assert_eq!(g.lock().durable, 0);
        // A later caller whose sync succeeds is durable.
        assert_eq!(g.sync(|| Ok::<(), &str>(())), Ok(()));
        assert_eq!(g.lock().durable, 3);
    }

    #[test]
    fn a_panicking_sync_does_not_strand_waiters() {
        let g = Arc::new(GroupSync::default());
        let h = {
            let g = g.clone();
            std::thread::spawn(move || g.sync::<()>(|| panic!("sync panicked")))
        };
        assert!(h.join().is_err());
        assert!(!g.lock().leading);
        assert_eq!(g.sync(|| Ok::<(), ()>(())), Ok(()));
    }
}
