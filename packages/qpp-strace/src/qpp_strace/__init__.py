"""qpp_strace: the ``strace`` QPP plugin (:mod:`.plugin`), a client of ``syscalls``."""
