//! kubectl-nodeevict
