//! kubectl-argodeploy
