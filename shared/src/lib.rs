//! The common library of the kubectl plugin suite: the flags every plugin accepts,
//! kubeconfig resolution identical to kubectl's, the target banner, confirmation prompts,
//! kubectl-style output, one error type with the suite's exit codes, waiting with progress,
//! retries of transient API failures, and the `doctor` command.

pub mod banner;
pub mod change;
pub mod cli;
pub mod complete;
pub mod confirm;
pub mod create;
pub mod credentials;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod flags;
pub mod follow;
pub mod interrupt;
pub mod journal;
pub mod kubeconfig;
pub mod lease;
pub mod manager;
pub mod output;
pub mod owner;
pub mod plural;
pub mod pod;
pub mod quantity;
pub mod retry;
pub mod screen;
pub mod selector;
pub mod shell;
pub mod suggest;
pub mod validate;
pub mod volume_usage;
pub mod wait;

pub use error::{Error, Result};
pub use flags::{ChangeArgs, GlobalArgs};
pub use kubeconfig::Target;
