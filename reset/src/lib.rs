//! The reset engine: a workload's PersistentVolumeClaims reset safely and resumably (plan,
//! journal on the owner, execute, verify, resume, abort). `kubectl pvcreset` is its command
//! line; `kubectl airflow reset-logs` drives it for the workers' log claims.

pub mod abort;
mod execute;
mod gitops;
pub mod hints;
mod journal;
pub mod plan;
pub mod reset;
pub mod restore;
pub mod resume;
pub mod status;
mod world;
