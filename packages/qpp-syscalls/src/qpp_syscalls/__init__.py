"""qpp_syscalls: the ``syscalls`` QPP plugin (:mod:`.plugin`), its typed API (:mod:`.api`)
and its syscall signature table (:mod:`.signatures`)."""
