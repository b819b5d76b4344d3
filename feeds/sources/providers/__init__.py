"""Live market-data providers. Each module registers its feed name with :mod:`feeds.feed`."""
