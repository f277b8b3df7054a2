//! kubectl-pvcreset
