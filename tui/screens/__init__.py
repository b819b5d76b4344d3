"""Screens: the main monitor, drilldowns (constituent, level, spread) and help."""
