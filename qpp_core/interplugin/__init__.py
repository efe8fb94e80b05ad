"""QPP: plugin-to-plugin exports, the qpp namespace, and callbacks."""
