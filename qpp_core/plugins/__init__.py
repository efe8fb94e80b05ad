"""Standard plugins shipped with qpp-core, ports of QEMU's example plugins.

Each module is one plugin, selected with ``qpp run -p NAME`` through the
``qemu_plugins`` entry points in qpp-core's own metadata.
"""
