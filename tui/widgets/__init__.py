"""Widgets of the r2k screen. Each renders what the frame says and keeps no market state."""
