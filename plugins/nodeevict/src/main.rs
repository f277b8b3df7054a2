fn main() -> std::process::ExitCode {
    kubectl_nodeevict::main()
}
