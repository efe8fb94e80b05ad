"""qpp_srv: the QPP demo's server plugin. The plugin itself is :mod:`qpp_srv.plugin`;
:mod:`qpp_srv.api` holds the typed declarations other plugins import."""
