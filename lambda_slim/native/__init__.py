"""Native files: ELF inspection, the arch/glibc audit, and strip."""
