"""Factories for the things found in bags: benign items and threats, built from convex parts."""
