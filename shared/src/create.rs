//! Creating a named object exactly once, through lost answers.
//!
//! A create whose answer was lost (a dropped connection, a 5xx after the write, a 429) may have
//! happened: it is looked up by name before being tried again, so a retry never makes a second
//! object, and a 409 after such a loss is this call's own create. A 409 on the first try is an
//! object that was there before: the caller decides what that means (the reset engine's claim
//! made by an earlier, interrupted run; a workflow name another client took).

use std::time::{Duration, Instant};

use kube::api::{Api, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result, Target};

/// What [`create_once`] found.
#[derive(Debug, Clone)]
pub enum Created<K> {
    /// This call created it (its answer possibly lost and the object found afterwards).
    Now(K),
    /// It was there before this call (a 409 before any lost answer).
    Before(K),
}

impl<K> Created<K> {
    pub fn into_inner(self) -> K {
        match self {
            Created::Now(k) | Created::Before(k) => k,
        }
    }
}

/// Creates `object` (which carries its name) once, retrying lost answers with back-off until
/// `deadline`; see the module's notes.
pub async fn create_once<K>(
    target: &Target,
    api: &Api<K>,
    object: &K,
    deadline: Instant,
) -> Result<Created<K>>
where
    K: kube::Resource + Clone + std::fmt::Debug + Serialize + DeserializeOwned,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let mut answer_lost = false;
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        let error = match api.create(&PostParams::default(), object).await {
            Ok(created) => return Ok(Created::Now(created)),
            Err(e) => target.api_error(e),
        };
        let conflict = error.status() == Some(409);
        if !(error.is_transient() || conflict) {
            return Err(error);
        }
        // Did a lost create happen, or who holds the name? (A GET is retried by the client.)
        match api.get_opt(&name).await.map_err(|e| target.api_error(e))? {
            Some(existing) if answer_lost => return Ok(Created::Now(existing)),
            Some(existing) if conflict => return Ok(Created::Before(existing)),
            Some(existing) => return Ok(Created::Now(existing)),
            // A 409 for an object already gone again (being deleted): try again.
            None => {}
        }
        answer_lost |= !conflict;
        if Instant::now() >= deadline {
            return Err(match error {
                Error::Api { .. } if conflict => Error::Failed(format!(
                    "{name} could not be created: the name stayed taken by an object being deleted"
                )),
                other => other,
            });
        }
        tokio::time::sleep(Duration::from_millis(200 * attempt.min(10))).await;
    }
}
