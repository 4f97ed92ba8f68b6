//! Work that needs much memory for a while (decoding an image), done off
//! the async workers within a budget a replica's requests share: each job
//! takes, before it starts, as many MiB of the budget as it says it needs
//! and holds them until it ends, also when the request that asked is
//! cancelled meanwhile. So many large uploads at once wait for each other
//! instead of taking the process down.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// A replica's budget of MiB for memory-hungry blocking work; cheap to clone.
#[derive(Clone)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    mib: u32,
}

/// The budget is gone (its process is stopping) or the work panicked.
#[derive(Debug, PartialEq, Eq)]
pub struct NotDone;

impl MemoryBudget {
    pub fn new(mib: u32) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(mib as usize)),
            mib,
        }
    }

    /// The MiB a job of `bytes` takes from the budget: those, rounded up,
    /// and one more, never more than the whole budget.
    pub fn cost_mib(&self, bytes: u64) -> u32 {
        let mib = bytes.div_ceil(1024 * 1024) + 1;
        mib.min(u64::from(self.mib)) as u32
    }

    /// Runs `work`, which needs about `bytes` of memory, on the blocking
    /// pool once the budget has room for it.
    pub async fn run<T, F>(&self, bytes: u64, work: F) -> Result<T, NotDone>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(self.cost_mib(bytes))
            .await
            .map_err(|_| NotDone)?;
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop(permit);
            done
        })
        .await
        .map_err(|_| NotDone)
    }

    /// MiB free now.
    pub fn available_mib(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_wait_for_their_share_of_the_budget() {
        let budget = MemoryBudget::new(8);
        assert_eq!(budget.cost_mib(4 * 1024 * 1024), 5, "4 MiB and one more");
        assert_eq!(budget.cost_mib(64 * 1024 * 1024), 8, "never more than all");
        // Other jobs hold most of the budget: this one waits for them.
        let held = budget.permits.clone().acquire_many_owned(6).await.unwrap();
        let mut job = Box::pin(budget.run(4 * 1024 * 1024, || 42));
        assert!(futures::poll!(&mut job).is_pending(), "5 MiB asked, 2 free");
        drop(held);
        assert_eq!(job.await, Ok(42));
        assert_eq!(budget.available_mib(), 8, "all given back");
    }
}
