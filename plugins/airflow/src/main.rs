fn main() -> std::process::ExitCode {
    kubectl_airflow::main()
}
