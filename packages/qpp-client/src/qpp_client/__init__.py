"""qpp_client: the QPP demo's client plugin (:mod:`qpp_client.plugin`)."""
