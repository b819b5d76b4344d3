"""Settings: the config file's schema and its documented form, and :mod:`.setup`, which builds
the one pipeline every command shares from them."""
