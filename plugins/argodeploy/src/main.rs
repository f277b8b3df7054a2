fn main() -> std::process::ExitCode {
    kubectl_argodeploy::main()
}
