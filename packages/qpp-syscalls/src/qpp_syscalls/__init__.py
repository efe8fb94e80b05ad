"""qpp_syscalls: the ``syscalls`` QPP plugin (:mod:`.plugin`) and its typed API (:mod:`.api`).
Its number and signature tables are qpp-core's public :mod:`qpp_core.abi`."""
