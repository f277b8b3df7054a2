//! kubectl-airflow
