//! kube-sim: a simulated Kubernetes API server for the suite's tests and demo.

pub mod argo;
pub mod attach;
pub mod clock;
pub mod control;
pub mod error;
pub mod generate;
pub mod gitops;
pub mod http;
pub mod kubelet;
pub mod priority;
pub mod quantity;
pub mod resources;
pub mod scenario;
pub mod selectors;
pub mod service_proxy;
pub mod sim;
pub mod store;
pub mod table;
pub mod tokens;
pub mod validation;
