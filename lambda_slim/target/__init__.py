"""The target: Lambda runtimes and architectures, the subprocess runner, the target interpreter."""
