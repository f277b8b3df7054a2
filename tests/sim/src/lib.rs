//! kube-sim: a simulated Kubernetes API server for the suite's tests and demo.

pub mod clock;
pub mod error;
pub mod resources;
pub mod scenario;
pub mod selectors;
pub mod store;
