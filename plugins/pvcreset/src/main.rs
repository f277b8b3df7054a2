fn main() -> std::process::ExitCode {
    kubectl_pvcreset::main()
}
